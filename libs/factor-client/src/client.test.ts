import { ConfigError } from '@gl-vcci/breaker-core';
import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_TTL_MS, type Harness, harness, NATURAL_GAS, STALE_MAX_AGE_MS } from '../test/support.js';
import { createFactorClient } from './client.js';
import { FactorNotFoundError, FactorQueryError, FactorUnavailableError } from './errors.js';
import type { FactorQuery } from './types.js';

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
    await h.client.getFactor(GAS);
    expect(h.sims.epa.lookups()).toBe(2); // settled lookups are not reused: the next one asks again
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

  it('writes only live values to a given FactorCache, for the stale maximum age', async () => {
    const writes: Array<[string, number, number]> = [];
    const store = new Map<string, unknown>();
    h = await harness({
      cache: {
        get: async (key) => store.get(key) as never,
        set: async (key, value, ttlMs) => {
          writes.push([key, value.value, ttlMs]);
          store.set(key, value);
        },
      },
    });
    await h.client.getFactor(GAS);
    h.sims.epa.mode({ status: 503 });
    await h.client.getFactor(GAS);
    await h.client.getFactor({ ...GAS, unit: 'kg CO2/scf' }); // a default: not written
    expect(writes).toEqual([
      [JSON.stringify(['epa', 'natural_gas', 'US', null, 'kg CO2/mmBtu']), NATURAL_GAS.value, STALE_MAX_AGE_MS],
    ]);
  });

  it('treats a failing FactorCache as a miss', async () => {
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

describe('input validation', () => {
  it.each([
    [
      { ...GAS, source: 'climatiq' },
      'getFactor: source: expected one of the configured sources (ecoinvent, desnz, epa), got "climatiq"',
    ],
    [{ ...GAS, activity: '' }, 'getFactor: activity: expected a non-empty activity id, got ""'],
    [
      { ...GAS, region: 'usa' },
      'getFactor: region: expected an ISO 3166 region code ("US", "GB", "US-CA") or "GLO" / "RoW", got "usa"',
    ],
    [{ ...GAS, year: 1850 }, 'getFactor: year: expected a year between 1990 and 2100, got 1850'],
    [{ ...GAS, unit: '' }, 'getFactor: unit: expected a non-empty string, got ""'],
  ])('rejects %j before any request', async (query, message) => {
    h = await harness();
    const error = await h.client.getFactor(query as FactorQuery).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FactorQueryError);
    expect((error as Error).message).toBe(message);
    expect(h.sims.epa.lookups() + h.sims.ecoinvent.lookups()).toBe(0);
  });

  it('names every bad field at once', async () => {
    h = await harness();
    await expect(h.client.getFactor({ source: 'epa', activity: '', region: '' } as FactorQuery)).rejects.toThrow(
      /activity: .*; region: /,
    );
  });

  it('rejects a source the client was not given', async () => {
    h = await harness();
    const only = createFactorClient({
      registry: h.registry,
      sources: { epa: { baseUrl: h.sims.epa.url } },
    });
    await expect(only.getFactor({ ...GAS, source: 'desnz' })).rejects.toThrow(
      'source: expected one of the configured sources (epa), got "desnz"',
    );
  });

  it.each([
    [{ sources: {} }, 'sources: expected at least one source'],
    [
      { sources: { epa: { baseUrl: 'ftp://x' } } },
      'sources.epa.baseUrl: expected an http:// or https:// URL, got "ftp://x"',
    ],
    [{ sources: { climatiq: { baseUrl: 'http://x' } } }, 'Unrecognized key'],
    [
      { sources: { epa: { baseUrl: 'http://x', failover: 'desnz' } } },
      'sources.epa.failover: expected another configured source (none), got "desnz"',
    ],
    [
      { sources: { epa: { baseUrl: 'http://x', cacheTtlMs: 10, staleMaxAgeMs: 5 } } },
      'sources.epa.staleMaxAgeMs: expected at least the cache TTL (10 ms), got 5 ms',
    ],
    [
      { sources: { epa: { baseUrl: 'http://x', headers: { 'x-api-key': 42 } } } },
      'sources.epa.headers: expected an object of headers, got "<hidden>"',
    ],
  ])('refuses bad options with a ConfigError naming the field (%#)', async (options, message) => {
    h = await harness();
    const make = () => createFactorClient({ registry: h.registry, ...(options as object) } as never);
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(message);
  });
});
