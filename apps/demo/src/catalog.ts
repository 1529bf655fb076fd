// The demo's data: what each simulated factor source holds, the spend categories the simulated
// LLM answers with, and the currency rates of the spend-based report. Kept in one place so the
// scenario can check every served value against the source it claims to come from.

export type ActivitySource = 'ecoinvent' | 'desnz' | 'epa';

/** An activity the calculator knows: the unit of its quantity and the unit of its factor. */
export interface ActivityKind {
  unit: string;
  factorUnit: string;
}

export const ACTIVITIES: Record<string, ActivityKind> = {
  electricity_grid: { unit: 'kWh', factorUnit: 'kg CO2e/kWh' },
  diesel_combustion: { unit: 'L', factorUnit: 'kg CO2e/L' },
  road_freight: { unit: 'tkm', factorUnit: 'kg CO2e/tkm' },
  rail_freight: { unit: 'tkm', factorUnit: 'kg CO2e/tkm' },
  air_freight: { unit: 'tkm', factorUnit: 'kg CO2e/tkm' },
  steel_hot_rolled: { unit: 'kg', factorUnit: 'kg CO2e/kg' },
  cement: { unit: 'kg', factorUnit: 'kg CO2e/kg' },
  natural_gas: { unit: 'mmBtu', factorUnit: 'kg CO2/mmBtu' },
  propane: { unit: 'mmBtu', factorUnit: 'kg CO2/mmBtu' },
  anthracite_coal: { unit: 'mmBtu', factorUnit: 'kg CO2/mmBtu' },
  bituminous_coal: { unit: 'mmBtu', factorUnit: 'kg CO2/mmBtu' },
  wood_and_wood_residuals: { unit: 'mmBtu', factorUnit: 'kg CO2/mmBtu' },
};

export const FACTOR_YEAR = 2024;

type Table = Record<string, Record<string, number>>;

/** ecoinvent: activity → region → value. */
export const ECOINVENT: Table = {
  electricity_grid: {
    DE: 0.381,
    FR: 0.056,
    PL: 0.709,
    SE: 0.013,
    ES: 0.158,
    IT: 0.257,
    NL: 0.328,
    US: 0.369,
    CN: 0.582,
    GB: 0.207,
  },
  diesel_combustion: { DE: 2.66, FR: 2.65, US: 2.68, GB: 2.51 },
  road_freight: { DE: 0.105, FR: 0.098, US: 0.121, GB: 0.113 },
  rail_freight: { DE: 0.022, FR: 0.009, GB: 0.028 },
  air_freight: { DE: 1.13, GB: 1.09 },
  steel_hot_rolled: { DE: 1.95, CN: 2.31, GB: 2.02 },
  cement: { DE: 0.62, FR: 0.58, GB: 0.6 },
  natural_gas: { US: 53.11 },
  propane: { US: 61.52 },
  anthracite_coal: { US: 103.8 },
  bituminous_coal: { US: 93.35 },
  wood_and_wood_residuals: { US: 93.9 },
};

/** DESNZ (ecoinvent's failover in the shipped config): UK factors only. */
export const DESNZ: Table = {
  electricity_grid: { GB: 0.20705 },
  diesel_combustion: { GB: 2.51279 },
  road_freight: { GB: 0.10714 },
  rail_freight: { GB: 0.02781 },
  air_freight: { GB: 1.12836 },
  steel_hot_rolled: { GB: 1.98 },
  cement: { GB: 0.59 },
};

/** Spend categories the simulated LLM assigns, and the EPA (USEEIO-style) spend factors per USD. */
export const CATEGORIES = [
  'metals',
  'logistics',
  'chemicals',
  'packaging',
  'energy',
  'textiles',
  'plastics',
  'food',
] as const;
export type Category = (typeof CATEGORIES)[number] | 'unclassified';

export const SPEND_FACTORS: Record<(typeof CATEGORIES)[number], number> = {
  metals: 0.91,
  logistics: 0.55,
  chemicals: 0.72,
  packaging: 0.61,
  energy: 1.24,
  textiles: 0.45,
  plastics: 0.8,
  food: 0.52,
};
export const SPEND_UNIT = 'kg CO2e/USD';
export const spendActivity = (category: string) => `spend_${category}`;

/** Fixed conversion rates of the report (the demo's, not a market's). */
export const USD_PER: Record<string, number> = { USD: 1, EUR: 1.08, GBP: 1.27 };

/** The category the simulated model gives a supplier name (the ERP data set names end in a trade). */
export function categoryOfName(name: string): (typeof CATEGORIES)[number] | undefined {
  const trades: Record<string, (typeof CATEGORIES)[number]> = {
    Steel: 'metals',
    Logistics: 'logistics',
    Chemicals: 'chemicals',
    Packaging: 'packaging',
    Energy: 'energy',
    Textiles: 'textiles',
    Plastics: 'plastics',
    Foods: 'food',
  };
  for (const [word, category] of Object.entries(trades)) if (name.includes(` ${word} `)) return category;
  return undefined;
}

/** Every (activity, region) some source can answer, for the traffic generator and the scenario. */
export function knownKeys(): Array<{ activity: string; region: string }> {
  return Object.entries(ECOINVENT).flatMap(([activity, regions]) =>
    Object.keys(regions).map((region) => ({ activity, region })),
  );
}
