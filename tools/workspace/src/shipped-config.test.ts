import { fileURLToPath } from 'node:url';
import { BreakerRegistry, loadConfig } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { createCacheClient } from '@gl-vcci/cache-client';
import { createDbClient } from '@gl-vcci/db-client';
import { createFactorClient } from '@gl-vcci/factor-client';
import { createLlmClient } from '@gl-vcci/llm-client';
import { describe, expect, it } from 'vitest';

// config/circuit_breaker_config.yaml as the four clients resolve it, environment by environment.
// The registry is strict: a key in their blocks that neither breaker-core nor the client reads
// fails here. No call is made (nothing listens on port 9); only settings are read.

const SHIPPED = fileURLToPath(new URL('../../../config/circuit_breaker_config.yaml', import.meta.url));
const NOWHERE = 'http://127.0.0.1:9';
const ENVIRONMENTS = ['development', 'staging', 'production'] as const;
type Environment = (typeof ENVIRONMENTS)[number];

function registryFor(environment: Environment): BreakerRegistry {
  const config = loadConfig(SHIPPED, { environment });
  return new BreakerRegistry({ config, metrics: false, logger: silentLogger(), strictConfig: true });
}

const circuit = (registry: BreakerRegistry, name: string) => registry.get(name)!.config;

describe.each(ENVIRONMENTS)('the shipped config in %s', (environment) => {
  it('gives factor-client its failover, cache ages and deadlines, and opens on Retry-After', async () => {
    const registry = registryFor(environment);
    const factors = createFactorClient({
      registry,
      sources: { ecoinvent: { baseUrl: NOWHERE }, desnz: { baseUrl: NOWHERE }, epa: { baseUrl: NOWHERE } },
    });
    const day = 86_400_000;
    expect(factors.status().sources).toEqual({
      ecoinvent: { failover: 'desnz', cacheTtlMs: day, staleMaxAgeMs: 7 * day },
      desnz: { failover: undefined, cacheTtlMs: day, staleMaxAgeMs: 7 * day },
      epa: { failover: undefined, cacheTtlMs: day, staleMaxAgeMs: 7 * day },
    });
    expect(circuit(registry, 'factor_broker.ecoinvent')).toMatchObject({
      callTimeoutMs: environment === 'production' ? 5_000 : 10_000,
      openOnRetryAfter: true,
      slowCallDurationMs: 5_000,
      failureRateThreshold: 50,
    });
    for (const source of ['desnz', 'epa']) {
      expect(circuit(registry, `factor_broker.${source}`)).toMatchObject({
        callTimeoutMs: 10_000,
        openOnRetryAfter: true,
        openDurationMs: { development: 10_000, staging: 30_000, production: 60_000 }[environment],
      });
    }
    await factors.close();
  });

  it('gives llm-client Claude first with OpenAI as its failover, backing off on Retry-After', async () => {
    const registry = registryFor(environment);
    const llm = createLlmClient({ registry, providers: { claude: { apiKey: 'k' }, openai: { apiKey: 'k' } } });
    expect(llm.status().providers.map(({ name, failover }) => [name, failover])).toEqual([
      ['claude', 'openai'],
      ['openai', undefined],
    ]);
    for (const provider of ['claude', 'openai']) {
      expect(circuit(registry, `llm_providers.${provider}`)).toMatchObject({
        failMax: 3,
        callTimeoutMs: 60_000,
        openDurationMs: environment === 'development' ? 10_000 : 30_000,
        openDurationMultiplier: 2,
        maxOpenDurationMs: 300_000,
        openOnRetryAfter: true,
      });
    }
    await llm.close();
  });

  it('gives db-client a critical count-window circuit and its pool size', async () => {
    const registry = registryFor(environment);
    const db = createDbClient({ registry, connectionString: 'postgres://nobody@127.0.0.1:9/none' });
    expect(db.status().pools.primary.max).toBe(environment === 'production' ? 50 : 20);
    expect(circuit(registry, 'database.postgres')).toMatchObject({
      critical: true,
      slidingWindow: { kind: 'count', size: 100 },
      failureRateThreshold: 50,
      minimumCalls: 20,
      callTimeoutMs: 6_000,
      openDurationMs: 15_000,
      halfOpenMaxCalls: 2,
      successThreshold: 2,
    });
    await db.close();
  });

  it('gives cache-client a short deadline and a count window', async () => {
    const registry = registryFor(environment);
    const cache = createCacheClient({ registry, url: 'redis://127.0.0.1:9' });
    expect(circuit(registry, 'cache.redis')).toMatchObject({
      failMax: Number.POSITIVE_INFINITY, // the rate alone: a blip's few failures never open it
      callTimeoutMs: 500,
      openDurationMs: 10_000,
      slidingWindow: { kind: 'count', size: 200 },
      failureRateThreshold: 50,
      minimumCalls: 50,
    });
    await cache.close();
  });
});
