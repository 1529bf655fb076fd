import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness } from '../test/support.js';
import { createFactorClient } from './client.js';
import { FactorArgumentError, isFactorArgumentError } from './errors.js';
import type { FactorQuery } from './types.js';

const GAS: FactorQuery = { source: 'epa', activity: 'natural_gas', region: 'US', unit: 'kg CO2/mmBtu' };

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('getFactor arguments', () => {
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
    [
      { ...GAS, source: 'ecoinvent', activity: '..' },
      'getFactor: activity: expected an activity id (not "." or "..", no control characters), got ".."',
    ],
    [{ ...GAS, extra: 1 }, 'getFactor: (query): Unrecognized key: "extra"'],
  ])('rejects %j with FactorArgumentError before any request', async (query, message) => {
    h = await harness();
    const error = await h.client.getFactor(query as FactorQuery).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FactorArgumentError);
    expect(isFactorArgumentError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'FACTOR_INVALID_ARGUMENT', message });
    expect((error as FactorArgumentError).issues).toHaveLength(1);
    expect(h.sims.epa.lookups() + h.sims.ecoinvent.lookups()).toBe(0);
  });

  it('names every bad field of the query and the call options at once', async () => {
    h = await harness();
    const error = await h.client
      .getFactor({ source: 'epa', activity: '', region: '' } as FactorQuery, { signal: 'stop' as never })
      .catch((e: unknown) => e);
    expect((error as FactorArgumentError).issues.map((i) => i.path)).toEqual(['activity', 'region', 'options.signal']);
    expect((error as Error).message).toMatch(
      /^getFactor: activity: .*; region: .*; options\.signal: expected an AbortSignal, got a string \(not shown\)$/,
    );
  });

  it('rejects a source the client was not given', async () => {
    h = await harness();
    const only = createFactorClient({ registry: h.registry, sources: { epa: { baseUrl: h.sims.epa.url } } });
    await expect(only.getFactor({ ...GAS, source: 'desnz' })).rejects.toThrow(
      'source: expected one of the configured sources (epa), got "desnz"',
    );
    await only.close();
  });
});
