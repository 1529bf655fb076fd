import { fileURLToPath } from 'node:url';
import type { Logger } from '@gl-vcci/breaker-core';
import { type TestRegistry, testRegistry, waitFor } from '@gl-vcci/breaker-core/testing';
import { type FactorBrokerSimulator, startFactorBroker } from '@gl-vcci/upstreams/factor-broker';
import { createFactorClient } from '../src/client.js';
import { loadFactorDefaults } from '../src/defaults.js';
import type { FactorClient, FactorClientOptions, FactorSourceName, FactorSourceOptions } from '../src/types.js';

export { samples, sampleValue } from '@gl-vcci/breaker-core/testing';

/**
 * The `factor_broker` blocks the tests run with: a count window so a circuit opens after two
 * failures, 5 s open, a 500 ms call deadline (moved past with the ManualClock), a 1 h cache TTL
 * and a 1 day stale maximum age; ecoinvent fails over to DESNZ.
 */
export const TEST_CONFIG = `
factor_broker:
  ecoinvent:
    window_calls: 10
    fail_max: 2
    timeout_duration: 5
    call_timeout: 0.5
    cache_ttl: 3600
    stale_max_age: 86400
    failover: desnz
  desnz:
    window_calls: 10
    fail_max: 2
    timeout_duration: 5
    call_timeout: 0.5
    cache_ttl: 3600
    stale_max_age: 86400
  epa:
    window_calls: 10
    fail_max: 2
    timeout_duration: 5
    call_timeout: 0.5
    cache_ttl: 3600
    stale_max_age: 86400
`;

export const CALL_TIMEOUT_MS = 500;
export const OPEN_DURATION_MS = 5_000;
export const CACHE_TTL_MS = 3_600_000;
export const STALE_MAX_AGE_MS = 86_400_000;

export const DEFAULTS_FILE = fileURLToPath(new URL('../data/factor-defaults.yaml', import.meta.url));

export const NATURAL_GAS = { value: 53.1, unit: 'kg CO2/mmBtu', year: 2024 };

export interface Harness extends TestRegistry {
  client: FactorClient;
  sims: Record<FactorSourceName, FactorBrokerSimulator>;
  close(): Promise<void>;
}

/**
 * Three simulators (one per source, each serving natural_gas in US), a registry on a ManualClock
 * and a client with the repository's defaults table.
 */
export async function harness(
  extra: Partial<FactorClientOptions> = {},
  setup: { logger?: Logger; headers?: Partial<Record<FactorSourceName, FactorSourceOptions['headers']>> } = {},
): Promise<Harness> {
  const t = testRegistry({ config: TEST_CONFIG, ...(setup.logger ? { logger: setup.logger } : {}) });
  const [ecoinvent, desnz, epa] = await Promise.all(
    (['ecoinvent', 'desnz', 'epa'] as const).map((s) => startFactorBroker(s, { 'natural_gas\u0000US': NATURAL_GAS })),
  );
  const sims = { ecoinvent: ecoinvent!, desnz: desnz!, epa: epa! };
  const client = createFactorClient({
    registry: t.registry,
    sources: {
      ecoinvent: { baseUrl: sims.ecoinvent.url, headers: setup.headers?.ecoinvent ?? { authorization: 'Bearer test' } },
      desnz: { baseUrl: sims.desnz.url, ...(setup.headers?.desnz ? { headers: setup.headers.desnz } : {}) },
      epa: { baseUrl: sims.epa.url, ...(setup.headers?.epa ? { headers: setup.headers.epa } : {}) },
    },
    defaults: loadFactorDefaults(DEFAULTS_FILE),
    ...extra,
  });
  return {
    ...t,
    client,
    sims,
    async close() {
      await client.close();
      await Promise.all(Object.values(sims).map((s) => s.close()));
      t.registry.close();
    },
  };
}

/** Polls until the simulator has received `count` requests: for real I/O only, never for clock time. */
export function waitForRequests(sim: FactorBrokerSimulator, count: number): Promise<void> {
  return waitFor(() => sim.lookups() >= count, `request ${count} on ${sim.source}`);
}
