import { flushPromises } from '@gl-vcci/breaker-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_TTL_MS, type Harness, harness, NATURAL_GAS, waitForRequests } from '../test/support.js';
import type { FactorQuery } from './types.js';

// Issue 17 #4: factors change yearly, so a fresh cached answer is served without a request; near
// its expiry it is still served and refreshed in the background (one request, coalesced).

const GAS: FactorQuery = { source: 'epa', activity: 'natural_gas', region: 'US', unit: 'kg CO2/mmBtu' };
const REFRESH_AHEAD_MS = CACHE_TTL_MS / 10; // the default: a tenth of the TTL

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('a fresh cached answer', () => {
  it('is served without asking the source: 10 000 lookups of 100 factors make 100 requests', async () => {
    h = await harness();
    const activities = Array.from({ length: 100 }, (_, i) => `fuel_${i}`);
    for (const activity of activities) h.sims.epa.setFactor(activity, 'US', NATURAL_GAS);
    const sources = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const { source } = await h.client.getFactor({ ...GAS, activity: activities[i % 100]! });
      sources.set(source, (sources.get(source) ?? 0) + 1);
    }
    expect(h.sims.epa.lookups()).toBe(100);
    expect(Object.fromEntries(sources)).toEqual({ live: 100, cache: 9_900 });
  });

  it('near its expiry is served and refreshed in the background, once for concurrent lookups', async () => {
    h = await harness();
    await h.client.getFactor(GAS);
    await h.clock.advanceAsync(CACHE_TTL_MS - REFRESH_AHEAD_MS / 2);
    const results = await Promise.all(Array.from({ length: 5 }, () => h.client.getFactor(GAS)));
    expect(results.map((r) => r.source)).toEqual(['cache', 'cache', 'cache', 'cache', 'cache']);
    await waitForRequests(h.sims.epa, 2); // one refresh for the five
    await flushPromises();
    // The refreshed entry is young again: past the old expiry it is still served, with no request.
    await h.clock.advanceAsync(REFRESH_AHEAD_MS);
    expect(await h.client.getFactor(GAS)).toMatchObject({ source: 'cache', ageMs: REFRESH_AHEAD_MS });
    expect(h.sims.epa.lookups()).toBe(2);
  });

  it('keeps being served when its background refresh fails, and the failure counts for the circuit', async () => {
    h = await harness();
    await h.client.getFactor(GAS);
    await h.clock.advanceAsync(CACHE_TTL_MS - REFRESH_AHEAD_MS / 2);
    h.sims.epa.mode({ status: 503 });
    expect((await h.client.getFactor(GAS)).source).toBe('cache');
    await waitForRequests(h.sims.epa, 2);
    await flushPromises();
    expect(h.registry.get('factor_broker.epa')!.snapshot().failuresInWindow).toBe(1);
    expect((await h.client.getFactor(GAS)).source).toBe('cache');
  });
});
