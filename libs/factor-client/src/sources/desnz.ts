import type { SourceAdapter } from './adapter.js';
import { yearParam } from './adapter.js';

/**
 * UK DESNZ GHG conversion factors through the factor broker (DESNZ itself publishes yearly
 * spreadsheets, no API): `GET /v1/conversion-factors/:activity?region=&year=` → one flat row
 * `{ activity, value, unit, source, year, region }`.
 */
export const desnz: SourceAdapter = {
  name: 'desnz',
  request: (q) => ({
    path: `/v1/conversion-factors/${encodeURIComponent(q.activity)}`,
    params: { region: q.region, ...yearParam(q) },
  }),
  row: (body) => ({ row: body }),
};
