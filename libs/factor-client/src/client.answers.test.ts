import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_TTL_MS, type Harness, harness, NATURAL_GAS, sampleValue } from '../test/support.js';
import { FactorMismatchError, isFactorMismatchError, isFactorRequestError } from './errors.js';
import type { FactorQuery } from './types.js';

// A well-formed answer to another question is the caller's, like a 404; an answer that is no
// factor at all is the source's failure (those are in client.outage.test.ts).
const GAS: FactorQuery = { source: 'epa', activity: 'natural_gas', region: 'US', unit: 'kg CO2/mmBtu' };
const ROW = { value: 53.1, unit: 'kg CO2/mmBtu', source: 'EPA GHG Emission Factors Hub', year: 2024, region: 'US' };

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('an answer for another unit, region or year than asked', () => {
  it('is a FactorMismatchError: six never open the circuit, and the next valid lookup goes live', async () => {
    h = await harness();
    // EPA has natural gas per mmBtu only; the defaults table has it per scf, which must not answer instead.
    const perScf = { ...GAS, unit: 'kg CO2/scf' };
    for (let i = 0; i < 6; i++) {
      const error = await h.client.getFactor(perScf).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FactorMismatchError);
      expect(error).toMatchObject({
        code: 'FACTOR_MISMATCH',
        message:
          'No epa factor for activity "natural_gas" in region "US" as asked: epa answered for another unit: expected "kg CO2/scf", got "kg CO2/mmBtu"',
      });
      expect(isFactorRequestError(error)).toBe(true);
    }
    const breaker = h.registry.get('factor_broker.epa')!;
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().failuresInWindow).toBe(0);
    const calls = { circuit_name: 'factor_broker.epa' };
    expect(await sampleValue(h.prom, 'greenlang_circuit_breaker_calls_total', { ...calls, status: 'ignored' })).toBe(6);
    expect(await h.client.getFactor(GAS)).toMatchObject({ source: 'live', value: NATURAL_GAS.value });
    expect(h.sims.epa.lookups()).toBe(7);
  });

  it.each([
    ['region', { ...ROW, region: 'GB' }, 'region: expected "US", got "GB"'],
    ['year', { ...ROW, year: 2023 }, 'year: expected 2024, got 2023'],
  ])('another %s is the caller’s error too, never hidden by the cache', async (_, row, mismatch) => {
    h = await harness();
    const query = { ...GAS, year: 2024 };
    expect((await h.client.getFactor(query)).source).toBe('live'); // cached now
    await h.clock.advanceAsync(CACHE_TTL_MS + 1); // expired: the next lookup asks the source
    h.sims.epa.mode({ status: 200, body: { data: [row] } });
    const error = await h.client.getFactor(query).catch((e: unknown) => e);
    expect(isFactorMismatchError(error)).toBe(true);
    expect((error as FactorMismatchError).mismatch).toBe(mismatch);
    expect(h.registry.get('factor_broker.epa')!.snapshot().failuresInWindow).toBe(0);
  });

  it('from the failover source means it has no value: the chain goes on to the default', async () => {
    h = await harness(); // ecoinvent fails over to desnz in the test config
    h.sims.ecoinvent.mode({ status: 500 });
    h.sims.desnz.setFactor('natural_gas', 'US', { ...NATURAL_GAS, unit: 'kg CO2/kWh' });
    const result = await h.client.getFactor({ ...GAS, source: 'ecoinvent' });
    expect(result).toMatchObject({ source: 'default', value: 53.06 });
    expect(h.registry.get('factor_broker.desnz')!.snapshot().failuresInWindow).toBe(0);
  });
});
