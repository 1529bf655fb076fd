import { zeroedCounter } from '@gl-vcci/breaker-core/client';
import type { Registry } from 'prom-client';
import type { FactorResultSource, FactorSourceName } from './types.js';

export const LOOKUPS_METRIC = 'greenlang_factor_lookups_total';

/** `live` … `default`: the step that answered; `error`: no step did (or the caller's mistake). */
export type LookupOutcome = FactorResultSource | 'error';

const OUTCOMES: readonly LookupOutcome[] = ['live', 'cache', 'stale', 'failover', 'default', 'error'];

export interface FactorMetrics {
  lookup(factorSource: FactorSourceName, outcome: LookupOutcome): void;
}

/**
 * The lookup counter, in the registry the breakers report to (shared by two clients in one
 * process); no registry, no metrics. Labels are configured source names and fixed outcomes only,
 * never request data; every series starts at 0 so ratios exist before the first fallback.
 */
export function createFactorMetrics(
  registry: Registry | undefined,
  sources: readonly FactorSourceName[],
): FactorMetrics {
  const lookups = zeroedCounter(registry, {
    name: LOOKUPS_METRIC,
    help: 'Emission-factor lookups by requested source (factor_source) and the fallback step that answered (source: live, cache, stale, failover, default; error when none did)',
    labelNames: ['factor_source', 'source'],
    series: sources.flatMap((factor_source) => OUTCOMES.map((source) => ({ factor_source, source }))),
  });
  return {
    lookup(factor_source, source) {
      lookups?.inc({ factor_source, source });
    },
  };
}
