import { fileURLToPath } from 'node:url';
import { BreakerRegistry, loadConfig } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { createErpClient } from '@gl-vcci/erp-client';
import { describe, expect, it } from 'vitest';

// config/circuit_breaker_config.yaml as erp-client resolves it, environment by environment, on a
// strict registry: a key in the erp_connectors blocks that neither breaker-core nor erp-client
// reads fails here. No call is made (nothing listens on port 9); only settings are read.

const SHIPPED = fileURLToPath(new URL('../../../config/circuit_breaker_config.yaml', import.meta.url));
const NOWHERE = 'http://127.0.0.1:9';
const ENVIRONMENTS = ['development', 'staging', 'production'] as const;
const auth = { type: 'basic' as const, username: 'u', password: 'p' };

describe.each(ENVIRONMENTS)('the shipped config in %s', (environment) => {
  it('gives erp-client each system’s pool, deadlines and cache ages, Workday shadowed in staging', async () => {
    const config = loadConfig(SHIPPED, { environment });
    const registry = new BreakerRegistry({ config, metrics: false, logger: silentLogger(), strictConfig: true });
    const erp = createErpClient({
      registry,
      systems: {
        sap: { baseUrl: NOWHERE, auth },
        oracle: { baseUrl: NOWHERE, auth },
        workday: { baseUrl: NOWHERE, auth, tenant: 't', purchaseOrderReport: { owner: 'o', name: 'r' } },
      },
    });
    const hour = 3_600_000;
    const system = (pool: number) => ({
      inFlight: 0,
      maxConcurrent: pool,
      queued: 0,
      maxQueue: 2 * pool,
      cacheTtlMs: hour,
      staleMaxAgeMs: 24 * hour,
      fetchDeadlineMs: 180_000,
    });
    expect(erp.status().systems).toEqual({ sap: system(10), oracle: system(10), workday: system(5) });
    const openDurationMs = environment === 'development' ? 20_000 : 120_000;
    for (const name of ['sap', 'oracle', 'workday']) {
      expect(registry.get(`erp_connectors.${name}`)!.config).toMatchObject({ callTimeoutMs: 30_000, openDurationMs });
    }
    expect(erp.status().circuits).toEqual({
      'erp_connectors.sap': 'closed',
      'erp_connectors.oracle': 'closed',
      'erp_connectors.workday': environment === 'staging' ? 'metrics_only' : 'closed',
    });
    await erp.close();
  });
});
