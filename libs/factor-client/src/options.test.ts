import { fileURLToPath } from 'node:url';
import { BreakerRegistry, ConfigError, loadConfig } from '@gl-vcci/breaker-core';
import type { KeyValueStore } from '@gl-vcci/breaker-core/client';
import { capturingLogger, silentLogger, testRegistry } from '@gl-vcci/breaker-core/testing';
import { startFactorBroker } from '@gl-vcci/upstreams/factor-broker';
import { describe, expect, it } from 'vitest';
import { NATURAL_GAS, TEST_CONFIG } from '../test/support.js';
import { createFactorClient } from './client.js';
import type { CachedFactor, FactorClientOptions } from './types.js';

const URL_ = 'http://127.0.0.1:9';
const store: KeyValueStore<CachedFactor> = { get: async () => undefined, set: async () => {} };

/** The ConfigError createFactorClient throws for `options` (on a registry with `config`). */
function refusal(options: Partial<FactorClientOptions>, config = TEST_CONFIG): ConfigError {
  const { registry } = testRegistry({ config });
  try {
    createFactorClient({ registry, ...options } as FactorClientOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('createFactorClient accepted the options');
}

describe('createFactorClient options', () => {
  it.each<[string, Partial<FactorClientOptions>, string]>([
    ['no source', { sources: {} }, 'sources: expected at least one source'],
    [
      'a URL of another protocol, not echoed',
      { sources: { epa: { baseUrl: 'ftp://user:pw@x' } } },
      'sources.epa.baseUrl: expected a http:// or https:// URL, got a ftp:// URL (not shown)',
    ],
    ['an unknown source', { sources: { climatiq: { baseUrl: URL_ } } as never }, 'Unrecognized key: "climatiq"'],
    [
      'a failover to a source not configured',
      { sources: { epa: { baseUrl: URL_, failover: 'desnz' } } },
      'sources.epa.failover: expected another configured source (none), got "desnz"',
    ],
    [
      'a failover to a source left out of this deployment',
      { sources: { ecoinvent: { baseUrl: URL_, failover: 'epa' }, desnz: { baseUrl: URL_ } } },
      'sources.ecoinvent.failover: expected another configured source (desnz), got "epa"',
    ],
    [
      'a stale maximum age below the cache TTL',
      { sources: { epa: { baseUrl: URL_, cacheTtlMs: 10, staleMaxAgeMs: 5 } } },
      'sources.epa.staleMaxAgeMs: expected at least the cache TTL (10 ms), got 5 ms',
    ],
    [
      'a header value that is not a string, not echoed',
      { sources: { epa: { baseUrl: URL_, headers: { 'x-api-key': 42 as never } } } },
      'sources.epa.headers.x-api-key: expected a string header value, got <hidden>',
    ],
    [
      '`local` beside `cache`',
      { sources: { epa: { baseUrl: URL_ } }, cache: store, local: { maxEntries: 10 } },
      'local: expected nothing when `cache` is given (it bounds the default store)',
    ],
    [
      'the old `cacheEntries`',
      { sources: { epa: { baseUrl: URL_ } }, cacheEntries: 10 } as never,
      'Unrecognized key: "cacheEntries"',
    ],
    [
      'a breaker override the circuit refuses',
      { sources: { epa: { baseUrl: URL_, breaker: { failMax: -1 } } } },
      'sources.epa.breaker.failMax: expected a positive integer, got -1',
    ],
  ])('refuses %s with a ConfigError naming the field', (_, options, message) => {
    expect(refusal(options).message).toContain(message);
  });

  it('takes a cache TTL past the default maximum age as the maximum age when none is set', () => {
    const { registry } = testRegistry({ config: TEST_CONFIG.replaceAll('    stale_max_age: 86400\n', '') });
    expect(() =>
      createFactorClient({ registry, sources: { epa: { baseUrl: URL_, cacheTtlMs: 30 * 86_400_000 } } }),
    ).not.toThrow();
  });

  it('names every bad field, the file’s and the checks across fields, in one ConfigError', () => {
    const config = TEST_CONFIG.replace('    failover: desnz\n', '    failover: epa\n');
    const error = refusal(
      {
        sources: {
          ecoinvent: { baseUrl: 'ftp://x' },
          desnz: { baseUrl: URL_, failover: 'epa', cacheTtlMs: 10, staleMaxAgeMs: 5, breaker: { failMax: 0 } },
        },
        cache: store,
        local: { maxEntries: 10 },
        idleTimeoutMs: -1,
      },
      config,
    );
    expect(error.issues.map((i) => i.path)).toEqual([
      'sources.ecoinvent.baseUrl',
      'idleTimeoutMs',
      'sources.desnz.failover',
      'sources.desnz.staleMaxAgeMs',
      'sources.desnz.breaker.failMax',
      'local',
    ]);
    expect(error.message).toContain(
      'sources.desnz.failover: expected another configured source (ecoinvent), got "epa"',
    );
    for (const issue of error.issues) expect(issue.message.match(/got/g)?.length ?? 0).toBeLessThanOrEqual(1);
  });

  it('reports a bad value in a source’s file block with the bad options', () => {
    const config = TEST_CONFIG.replace('    failover: desnz\n', '    failover: climatiq\n');
    const error = refusal({ sources: { ecoinvent: { baseUrl: URL_ }, epa: { baseUrl: 'x' } } }, config);
    expect(error.issues).toEqual([
      {
        path: 'sources.epa.baseUrl',
        message: 'expected a http:// or https:// URL, got a string that is not a URL (not shown)',
      },
      { path: 'factor_broker.ecoinvent.failover', message: 'expected one of ecoinvent, desnz, epa, got "climatiq"' },
    ]);
  });
});

describe('settings from the configuration file', () => {
  it('gives the circuit a 10 s deadline when neither the file nor the options set one', () => {
    const { registry } = testRegistry({ config: 'factor_broker:\n  epa:\n    fail_max: 2\n' });
    createFactorClient({ registry, sources: { epa: { baseUrl: URL_ } } });
    expect(registry.get('factor_broker.epa')!.config.callTimeoutMs).toBe(10_000);
  });

  it('lets the file’s call_timeout beat the default, and a source’s breaker option beat the file', () => {
    const { registry } = testRegistry({ config: TEST_CONFIG });
    createFactorClient({
      registry,
      sources: { desnz: { baseUrl: URL_ }, epa: { baseUrl: URL_, breaker: { callTimeoutMs: 2_000, failMax: 5 } } },
    });
    expect(registry.get('factor_broker.desnz')!.config).toMatchObject({ callTimeoutMs: 500, failMax: 2 });
    expect(registry.get('factor_broker.epa')!.config).toMatchObject({ callTimeoutMs: 2_000, failMax: 5 });
  });

  it('reads failover from the shipped config: ecoinvent fails over to DESNZ', async () => {
    const config = loadConfig(fileURLToPath(new URL('../../../config/circuit_breaker_config.yaml', import.meta.url)));
    const desnz = await startFactorBroker('desnz', { 'natural_gas\u0000US': NATURAL_GAS });
    try {
      const registry = new BreakerRegistry({ config, metrics: false, logger: silentLogger() });
      // Port 9 (discard) refuses the connection: ecoinvent is down.
      const client = createFactorClient({
        registry,
        sources: { ecoinvent: { baseUrl: URL_ }, desnz: { baseUrl: desnz.url } },
      });
      const result = await client.getFactor({ source: 'ecoinvent', activity: 'natural_gas', region: 'US' });
      expect(result).toMatchObject({ source: 'failover', provider: 'desnz', value: NATURAL_GAS.value });
      await client.close();
    } finally {
      await desnz.close();
    }
  });

  it('runs without the file’s failover when it was not given that source, and says so at warn', async () => {
    const config = loadConfig(fileURLToPath(new URL('../../../config/circuit_breaker_config.yaml', import.meta.url)));
    const { logger, lines } = capturingLogger();
    const registry = new BreakerRegistry({ config, metrics: false, logger });
    const client = createFactorClient({ registry, sources: { ecoinvent: { baseUrl: URL_ } } });
    try {
      expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toContain(
        'factor_broker.ecoinvent.failover names desnz, which this client was not given: no failover for ecoinvent',
      );
      const error = await client
        .getFactor({ source: 'ecoinvent', activity: 'natural_gas', region: 'US' })
        .catch((e: unknown) => e);
      expect((error as Error).message).not.toMatch(/failover/);
    } finally {
      await client.close();
    }
  });
});
