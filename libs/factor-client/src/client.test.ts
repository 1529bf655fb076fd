import type { KeyValueStore } from '@gl-vcci/breaker-core/client';
import { waitFor } from '@gl-vcci/breaker-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_TTL_MS, type Harness, harness, NATURAL_GAS, STALE_MAX_AGE_MS } from '../test/support.js';
import { FactorNotFoundError, FactorUnavailableError } from './errors.js';
import type { CachedFactor, FactorQuery } from './types.js';

const GAS: FactorQuery = { source: 'epa', activity: 'natural_gas', region: 'US', unit: 'kg CO2/mmBtu' };

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('getFactor', () => {
  it('answers live with the factor, its publication and high quality', async () => {
    h = await harness();
    const result = await h.client.getFactor({ ...GAS, year: 2024 });
    expect(result).toEqual({
      value: NATURAL_GAS.value,
      unit: 'kg CO2/mmBtu',
      factorSource: 'EPA GHG Emission Factors Hub',
      provider: 'epa',
      region: 'US',
      year: 2024,
      source: 'live',
      quality: 'high',
    });
    expect(h.sims.epa.http.requests[0]!.query.get('year')).toBe('2024');
  });

  it('sends each source its own request shape', async () => {
    h = await harness();
    await h.client.getFactor({ ...GAS, source: 'ecoinvent' });
    await h.client.getFactor({ ...GAS, source: 'desnz' });
    expect(h.sims.ecoinvent.http.requests[0]).toMatchObject({ path: '/v1/factors/natural_gas' });
    expect(h.sims.ecoinvent.http.requests[0]!.query.get('geography')).toBe('US');
    expect(h.sims.ecoinvent.http.requests[0]!.headers.authorization).toBe('Bearer test');
    expect(h.sims.desnz.http.requests[0]).toMatchObject({ path: '/v1/conversion-factors/natural_gas' });
  });

  it('shares one upstream request among 100 concurrent identical lookups', async () => {
    h = await harness();
    h.sims.epa.mode({ delayMs: 50 });
    const results = await Promise.all(Array.from({ length: 100 }, () => h.client.getFactor(GAS)));
    expect(h.sims.epa.lookups()).toBe(1);
    expect(new Set(results.map((r) => `${r.source}:${r.value}`))).toEqual(new Set([`live:${NATURAL_GAS.value}`]));
    await h.clock.advanceAsync(CACHE_TTL_MS + 1);
    await h.client.getFactor(GAS);
    expect(h.sims.epa.lookups()).toBe(2); // a settled call is not reused: once the cache expired, the next one asks again
  });

  it('lets a caller whose signal aborts stop waiting without cancelling the shared call', async () => {
    h = await harness();
    h.sims.epa.mode({ delayMs: 50 });
    const controller = new AbortController();
    const leaving = h.client.getFactor(GAS, { signal: controller.signal });
    const staying = h.client.getFactor(GAS);
    controller.abort(new Error('caller left'));
    await expect(leaving).rejects.toThrow('caller left');
    expect((await staying).source).toBe('live');
    expect(h.sims.epa.lookups()).toBe(1);
  });

  it('reports 404 as FactorNotFoundError naming source, activity and region, never masked by a default', async () => {
    h = await harness();
    h.sims.epa.removeFactor('natural_gas', 'US'); // the defaults table has natural_gas/US: it must not answer
    const error = await h.client.getFactor(GAS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FactorNotFoundError);
    expect((error as FactorNotFoundError).code).toBe('FACTOR_NOT_FOUND');
    expect((error as Error).message).toMatch(
      /^No epa factor for activity "natural_gas" in region "US": epa answered 404/,
    );
  });

  it('serves the conservative default with its citation and low quality when nothing else has a value', async () => {
    h = await harness();
    h.sims.epa.mode({ status: 503 });
    expect(await h.client.getFactor(GAS)).toEqual({
      value: 53.06,
      unit: 'kg CO2/mmBtu',
      factorSource: 'EPA GHG Emission Factors Hub 2024, Table 1, Stationary Combustion, Natural Gas',
      provider: 'defaults',
      region: 'US',
      year: 2024,
      source: 'default',
      quality: 'low',
    });
  });

  it('throws FactorUnavailableError, never a made-up number, when no default exists', async () => {
    h = await harness();
    h.sims.epa.mode({ status: 503 });
    const error = await h.client.getFactor({ ...GAS, activity: 'steel' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FactorUnavailableError);
    expect((error as Error).message).toContain(
      'No epa factor for activity "steel" in region "US" available: live: epa failed',
    );
    expect((error as Error).message).toContain('default: no default for activity "steel" in region "US"');
  });

  it('gives no default without a unit when the table has several units for the activity', async () => {
    h = await harness();
    h.sims.epa.mode({ status: 503 });
    const { unit: _unit, ...noUnit } = GAS;
    await expect(h.client.getFactor(noUnit)).rejects.toBeInstanceOf(FactorUnavailableError);
  });

  it('fails over to the configured source for the same activity and region', async () => {
    h = await harness(); // the test config sets factor_broker.ecoinvent.failover: desnz
    h.sims.ecoinvent.mode({ status: 500 });
    h.sims.desnz.setFactor('natural_gas', 'US', { ...NATURAL_GAS, value: 54 });
    const result = await h.client.getFactor({ ...GAS, source: 'ecoinvent' });
    expect(result).toMatchObject({ value: 54, provider: 'desnz', source: 'failover', quality: 'reduced' });
  });

  it('serves a cached value as cache within cache_ttl, as stale past it, and refuses it past the maximum age', async () => {
    h = await harness();
    await h.client.getFactor(GAS);
    h.sims.epa.mode({ status: 503 });
    h.clock.advance(1_000);
    expect(await h.client.getFactor(GAS)).toMatchObject({ source: 'cache', ageMs: 1_000, quality: 'high' });
    h.clock.advance(CACHE_TTL_MS);
    expect(await h.client.getFactor(GAS)).toMatchObject({
      source: 'stale',
      ageMs: CACHE_TTL_MS + 1_000,
      value: NATURAL_GAS.value,
      quality: 'reduced',
    });
    h.clock.advance(STALE_MAX_AGE_MS);
    expect(await h.client.getFactor(GAS)).toMatchObject({ source: 'default', value: 53.06 });
  });

  it('writes only live values to a given cache store, for the stale maximum age', async () => {
    const writes: Array<[string, number, number]> = [];
    const store = new Map<string, CachedFactor>();
    const cache: KeyValueStore<CachedFactor> = {
      get: async (key) => store.get(key),
      set: async (key, value, ttlMs) => {
        writes.push([key, value.value, ttlMs]);
        store.set(key, value);
      },
    };
    h = await harness({ cache });
    await h.client.getFactor(GAS);
    h.sims.epa.mode({ status: 503 });
    await h.client.getFactor(GAS);
    await h.client.getFactor({ ...GAS, unit: 'kg CO2/scf' }); // a default: not written
    expect(writes).toEqual([
      [JSON.stringify(['epa', 'natural_gas', 'US', null, 'kg CO2/mmBtu']), NATURAL_GAS.value, STALE_MAX_AGE_MS],
    ]);
  });

  it('keeps at most local.maxEntries answers in the default store, the least recently used going first', async () => {
    h = await harness({ local: { maxEntries: 1 } });
    h.sims.epa.setFactor('propane', 'US', { value: 61.5, unit: 'kg CO2/mmBtu', year: 2024 });
    await h.client.getFactor(GAS);
    await h.client.getFactor({ ...GAS, activity: 'propane' });
    h.sims.epa.mode({ status: 503 });
    expect(await h.client.getFactor({ ...GAS, activity: 'propane' })).toMatchObject({ source: 'cache', value: 61.5 });
    expect(await h.client.getFactor(GAS)).toMatchObject({ source: 'default', value: 53.06 });
  });

  it('treats a failing cache store as a miss', async () => {
    h = await harness({
      cache: {
        get: () => Promise.reject(new Error('redis down')),
        set: () => Promise.reject(new Error('redis down')),
      },
    });
    expect((await h.client.getFactor(GAS)).source).toBe('live');
    h.sims.epa.mode({ status: 503 });
    expect((await h.client.getFactor(GAS)).source).toBe('default');
  });
});

describe('a cache store that hangs', () => {
  it('is a miss after a second on the registry clock: the chain goes on to the default', async () => {
    let reads = 0;
    const hanging = () => {
      reads++;
      return new Promise<undefined>(() => {});
    };
    h = await harness({ cache: { get: hanging, set: async () => {} } });
    h.sims.epa.mode({ status: 503 });
    const pending = h.client.getFactor(GAS);
    await waitFor(() => reads === 1, 'the cache read');
    await h.clock.advanceAsync(1_000);
    expect(await pending).toMatchObject({ source: 'default', value: 53.06 });
    expect(h.clock.pendingTimers).toBe(0);
  });
});
