import { waitFor } from '@gl-vcci/breaker-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_TTL_MS, type Harness, harness, STALE_MAX_AGE_MS, waitForRequests } from '../test/support.js';
import { isFactorClosedError } from './errors.js';
import type { FactorQuery } from './types.js';

const GAS: FactorQuery = { source: 'epa', activity: 'natural_gas', region: 'US', unit: 'kg CO2/mmBtu' };

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** TCP sockets open in this process (client and simulator ends alike). */
const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

describe('status()', () => {
  it('names every source’s circuit with its state, its resolved settings, and whether the client is closed', async () => {
    h = await harness();
    h.sims.epa.mode({ status: 503 });
    await h.client.getFactor(GAS);
    await h.client.getFactor(GAS);
    expect(h.client.status()).toEqual({
      circuits: { 'factor_broker.ecoinvent': 'closed', 'factor_broker.desnz': 'closed', 'factor_broker.epa': 'open' },
      closed: false,
      sources: {
        ecoinvent: { failover: 'desnz', cacheTtlMs: CACHE_TTL_MS, staleMaxAgeMs: STALE_MAX_AGE_MS },
        desnz: { failover: undefined, cacheTtlMs: CACHE_TTL_MS, staleMaxAgeMs: STALE_MAX_AGE_MS },
        epa: { failover: undefined, cacheTtlMs: CACHE_TTL_MS, staleMaxAgeMs: STALE_MAX_AGE_MS },
      },
    });
    await h.client.close();
    expect(h.client.status().closed).toBe(true);
  });
});

describe('close()', () => {
  it('cuts a lookup hung on its source with FactorClosedError, counted against nothing, leaving no timer or socket', async () => {
    h = await harness({ idleTimeoutMs: 600_000 }); // no idle timer to end the hang in real time
    h.sims.epa.mode('hang'); // and the deadline never comes on this clock
    const pending = h.client.getFactor(GAS).catch((e: unknown) => e);
    await waitForRequests(h.sims.epa, 1);
    await h.client.close();
    expect(isFactorClosedError(await pending)).toBe(true);
    expect(h.registry.get('factor_broker.epa')!.snapshot().failuresInWindow).toBe(0);
    expect(h.clock.pendingTimers).toBe(0);
    await waitFor(() => sockets() === 0, 'every socket closed');
  });

  it('refuses lookups afterwards, and a second close() is harmless', async () => {
    h = await harness();
    await h.client.close();
    await h.client.close();
    const error = await h.client.getFactor(GAS).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FACTOR_CLOSED', message: 'The factor client is closed' });
    expect(h.sims.epa.lookups()).toBe(0);
  });
});
