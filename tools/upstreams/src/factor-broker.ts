import type { ServerResponse } from 'node:http';
import {
  type FailureMode,
  type HttpSimulator,
  json,
  type SimulatedRequest,
  startHttpSimulator,
} from './http-simulator.js';

/** The emission-factor sources the factor broker fronts; each speaks its own wire shape. */
export type FactorSourceName = 'ecoinvent' | 'desnz' | 'epa';

/** One factor as a source holds it. `source` defaults to the source's publication name. */
export interface SimulatedFactor {
  value: number;
  unit: string;
  year: number;
  source?: string;
}

export interface FactorBrokerSimulator {
  readonly source: FactorSourceName;
  readonly url: string;
  /** The underlying simulator: `requests`, `stop()`/`start()` (refused connections), `close()`. */
  readonly http: HttpSimulator;
  /** The route of this source's factor endpoint, for `http.mode(route, …)`. */
  readonly route: string;
  /** Switches this source's factor endpoint to a failure mode (or back to `'healthy'`). */
  mode(mode: FailureMode): void;
  /** Sets (or replaces) the factor served for `activity` in `region`. */
  setFactor(activity: string, region: string, factor: SimulatedFactor): void;
  /** Forgets a factor: lookups of it get 404. */
  removeFactor(activity: string, region: string): void;
  /** Requests received on the factor endpoint (failures included). */
  lookups(): number;
  close(): Promise<void>;
}

/**
 * The three wire shapes, modelled on what each publisher offers (none of DESNZ and EPA has a
 * public API; the platform reaches them through the factor broker, which answers in these shapes):
 * - ecoinvent: `GET /v1/factors/:activity?geography=&year=` → `{ version, system_model, activity, factor: {…} }`,
 *   scoped to a database version and system model like the licensed ecoinvent API;
 * - desnz: `GET /v1/conversion-factors/:activity?region=&year=` → the factor as a flat object (one row of
 *   the "flat file" of the GHG conversion factors);
 * - epa: `GET /v1/emission-factors?activity=&region=&year=` → `{ data: [ {…, gas: 'CO2'} ] }`, rows of the Hub's tables.
 * Every factor carries `value`, `unit`, `source`, `year` and `region`. Unknown factors answer 404.
 */
const SHAPES: Record<
  FactorSourceName,
  { route: string; publication: string; activity: (r: SimulatedRequest) => string; regionParam: string }
> = {
  ecoinvent: {
    route: 'GET /v1/factors/:activity',
    publication: 'ecoinvent 3.10 cutoff',
    activity: (r) => decodeURIComponent(r.path.split('/')[3] ?? ''),
    regionParam: 'geography',
  },
  desnz: {
    route: 'GET /v1/conversion-factors/:activity',
    publication: 'DESNZ GHG conversion factors for company reporting',
    activity: (r) => decodeURIComponent(r.path.split('/')[3] ?? ''),
    regionParam: 'region',
  },
  epa: {
    route: 'GET /v1/emission-factors',
    publication: 'EPA GHG Emission Factors Hub',
    activity: (r) => r.query.get('activity') ?? '',
    regionParam: 'region',
  },
};

/** Starts the factor endpoint of one source on its own port, so `http.stop()` refuses that source only. */
export async function startFactorBroker(
  source: FactorSourceName,
  factors: Record<string, SimulatedFactor> = {},
): Promise<FactorBrokerSimulator> {
  const shape = SHAPES[source];
  const table = new Map<string, SimulatedFactor>(Object.entries(factors));
  const handler = (request: SimulatedRequest, response: ServerResponse) => {
    const activity = shape.activity(request);
    const region = request.query.get(shape.regionParam) ?? '';
    const year = request.query.get('year');
    const factor = table.get(keyOf(activity, region));
    if (!factor || (year !== null && Number(year) !== factor.year)) {
      return json(response, 404, {
        error: 'not_found',
        message: `no ${source} factor for activity "${activity}" in region "${region}"${year === null ? '' : ` for ${year}`}`,
      });
    }
    const row = {
      activity,
      value: factor.value,
      unit: factor.unit,
      source: factor.source ?? shape.publication,
      year: factor.year,
      region,
    };
    if (source === 'ecoinvent')
      return json(response, 200, { version: '3.10', system_model: 'cutoff', activity, factor: row });
    if (source === 'desnz') return json(response, 200, row);
    return json(response, 200, { data: [{ ...row, gas: 'CO2' }] });
  };
  const http = await startHttpSimulator({ [shape.route]: handler });
  return {
    source,
    url: http.url,
    http,
    route: shape.route,
    mode: (mode) => http.mode(shape.route, mode),
    setFactor: (activity, region, factor) => void table.set(keyOf(activity, region), factor),
    removeFactor: (activity, region) => void table.delete(keyOf(activity, region)),
    lookups: () => http.requests.length,
    close: () => http.close(),
  };
}

function keyOf(activity: string, region: string): string {
  return `${activity}\u0000${region}`;
}
