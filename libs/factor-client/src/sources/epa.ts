import type { SourceAdapter } from './adapter.js';
import { yearParam } from './adapter.js';

/**
 * US EPA GHG Emission Factors Hub through the factor broker (EPA publishes a yearly workbook, no
 * API): `GET /v1/emission-factors?activity=&region=&year=` → `{ data: [ { …, gas } ] }`, rows of the
 * Hub's tables; the first row is the factor.
 */
export const epa: SourceAdapter = {
  name: 'epa',
  request: (q) => ({
    path: '/v1/emission-factors',
    params: { activity: q.activity, region: q.region, ...yearParam(q) },
  }),
  row: (body) => {
    const data = (body as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) return { malformed: 'expected an object with a "data" array' };
    return data.length === 0 ? { malformed: 'expected at least one row in "data"' } : { row: data[0] };
  },
};
