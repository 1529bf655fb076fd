import { ConfigError } from '@gl-vcci/breaker-core';
import { describe, expect, it } from 'vitest';
import { DEFAULTS_FILE } from '../test/support.js';
import { findDefault, loadFactorDefaults } from './defaults.js';

describe('the conservative defaults table (data/factor-defaults.yaml, shipped in the package)', () => {
  const rows = loadFactorDefaults(DEFAULTS_FILE);

  it('holds only the looked-up EPA Hub 2024 rows, each citing publication, year and table', () => {
    expect(rows.map((r) => [r.activity, r.region, r.value, r.unit])).toEqual([
      ['natural_gas', 'US', 53.06, 'kg CO2/mmBtu'],
      ['natural_gas', 'US', 0.05444, 'kg CO2/scf'],
      ['propane', 'US', 61.46, 'kg CO2/mmBtu'],
      ['propane', 'US', 0.15463, 'kg CO2/scf'],
      ['anthracite_coal', 'US', 103.69, 'kg CO2/mmBtu'],
      ['anthracite_coal', 'US', 2602, 'kg CO2/short ton'],
      ['bituminous_coal', 'US', 93.28, 'kg CO2/mmBtu'],
      ['bituminous_coal', 'US', 2325, 'kg CO2/short ton'],
      ['wood_and_wood_residuals', 'US', 93.8, 'kg CO2/mmBtu'],
    ]);
    for (const row of rows) {
      expect(row.citation).toMatchObject({
        publication: 'EPA GHG Emission Factors Hub',
        year: 2024,
        table: 'Table 1, Stationary Combustion',
      });
    }
  });

  it('is what loadFactorDefaults() loads with no argument, found relative to the module', () => {
    expect(loadFactorDefaults()).toEqual(rows);
  });

  it('finds a row by activity, region and unit, and none for anything else', () => {
    expect(findDefault(rows, { source: 'epa', activity: 'propane', region: 'US', unit: 'kg CO2/scf' })?.value).toBe(
      0.15463,
    );
    expect(findDefault(rows, { source: 'epa', activity: 'wood_and_wood_residuals', region: 'US' })?.value).toBe(93.8);
    expect(findDefault(rows, { source: 'epa', activity: 'propane', region: 'US' })).toBeUndefined();
    expect(
      findDefault(rows, { source: 'desnz', activity: 'natural_gas', region: 'GB', unit: 'kg CO2/mmBtu' }),
    ).toBeUndefined();
  });

  it('refuses a row without a citation, naming it', () => {
    const text = 'defaults:\n  - { activity: x, region: US, value: 1, unit: kg, year: 2024 }\n';
    expect(() => loadFactorDefaults(text)).toThrow(ConfigError);
    expect(() => loadFactorDefaults(text)).toThrow(
      '<text>: defaults.0.citation: expected { publication, year, table, row? }',
    );
  });

  it('refuses a repeated activity/region/unit', () => {
    const row =
      '{ activity: x, region: US, value: 1, unit: kg, year: 2024, citation: { publication: P, year: 2024, table: T } }';
    expect(() => loadFactorDefaults(`defaults:\n  - ${row}\n  - ${row}\n`)).toThrow(
      'defaults.1: expected one row per activity',
    );
  });
});
