import { afterEach, describe, expect, it } from 'vitest';
import { type FactorBrokerSimulator, startFactorBroker } from './factor-broker.js';

const started: FactorBrokerSimulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function broker(source: 'ecoinvent' | 'desnz' | 'epa') {
  const sim = await startFactorBroker(source, {
    'natural_gas\u0000US': { value: 53.06, unit: 'kg CO2/mmBtu', year: 2024 },
  });
  started.push(sim);
  return sim;
}

describe('factor broker simulator', () => {
  it('answers each source in its own wire shape with value, unit, source, year and region', async () => {
    const eco = await broker('ecoinvent');
    const desnz = await broker('desnz');
    const epa = await broker('epa');
    const a = await (await fetch(`${eco.url}/v1/factors/natural_gas?geography=US&year=2024`)).json();
    const b = await (await fetch(`${desnz.url}/v1/conversion-factors/natural_gas?region=US`)).json();
    const c = await (await fetch(`${epa.url}/v1/emission-factors?activity=natural_gas&region=US`)).json();
    const row = { value: 53.06, unit: 'kg CO2/mmBtu', year: 2024, region: 'US' };
    expect(a).toMatchObject({
      version: '3.10',
      system_model: 'cutoff',
      factor: { ...row, source: 'ecoinvent 3.10 cutoff' },
    });
    expect(b).toMatchObject(row);
    expect(c).toMatchObject({ data: [{ ...row, gas: 'CO2' }] });
  });

  it('answers 404 for an unknown activity, region or year', async () => {
    const epa = await broker('epa');
    expect((await fetch(`${epa.url}/v1/emission-factors?activity=coal&region=US`)).status).toBe(404);
    expect((await fetch(`${epa.url}/v1/emission-factors?activity=natural_gas&region=GB`)).status).toBe(404);
    expect((await fetch(`${epa.url}/v1/emission-factors?activity=natural_gas&region=US&year=1999`)).status).toBe(404);
  });

  it('serves factors set by the test and switches failure modes per source', async () => {
    const desnz = await broker('desnz');
    desnz.setFactor('electricity', 'GB', { value: 0.207, unit: 'kg CO2e/kWh', year: 2024 });
    expect(await (await fetch(`${desnz.url}/v1/conversion-factors/electricity?region=GB`)).json()).toMatchObject({
      value: 0.207,
    });
    desnz.mode({ status: 503 });
    expect((await fetch(`${desnz.url}/v1/conversion-factors/electricity?region=GB`)).status).toBe(503);
    expect(desnz.lookups()).toBe(2);
  });
});
