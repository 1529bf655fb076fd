import type { SourceAdapter } from './adapter.js';
import { yearParam } from './adapter.js';

/**
 * ecoinvent through the factor broker: `GET /v1/factors/:activity?geography=&year=` →
 * `{ version, system_model, activity, factor: { value, unit, source, year, region } }`. Answers are
 * scoped to a database version and system model, like the licensed ecoinvent API.
 */
export const ecoinvent: SourceAdapter = {
  name: 'ecoinvent',
  request: (q) => ({
    path: `/v1/factors/${encodeURIComponent(q.activity)}`,
    params: { geography: q.region, ...yearParam(q) },
  }),
  row: (body) =>
    isObject(body) && 'factor' in body ? { row: body.factor } : { malformed: 'expected an object with "factor"' },
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
