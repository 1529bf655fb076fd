import { ensureMetric } from '@gl-vcci/breaker-core';
import { Counter, type Registry } from 'prom-client';
import type { FactorResultSource, FactorSourceName } from './types.js';

export const LOOKUPS_METRIC = 'greenlang_factor_lookups_total';

/** `live` … `default`: the step that answered; `error`: no step did (or the caller's mistake). */
export type LookupOutcome = FactorResultSource | 'error';

const OUTCOMES: readonly LookupOutcome[] = ['live', 'cache', 'stale', 'failover', 'default', 'error'];

export interface FactorMetrics {
  lookup(factorSource: FactorSourceName, outcome: LookupOutcome): void;
}

const NO_METRICS: FactorMetrics = { lookup() {} };

/**
 * Registers (or reuses: two clients in one process share the series) the lookup counter in the
 * registry the breakers report to. No registry: metrics are off. Labels are configured source
 * names and the fixed outcomes only, never request data.
 */
export function createFactorMetrics(
  registry: Registry | undefined,
  sources: readonly FactorSourceName[],
): FactorMetrics {
  if (!registry) return NO_METRICS;
  const lookups = ensureMetric(
    registry,
    LOOKUPS_METRIC,
    (registers) =>
      new Counter({
        name: LOOKUPS_METRIC,
        help: 'Emission-factor lookups by requested source (factor_source) and the fallback step that answered (source: live, cache, stale, failover, default; error when none did)',
        labelNames: ['factor_source', 'source'],
        registers,
      }),
  );
  // Every series exists from the start at 0, so ratios are defined before the first fallback.
  const children = new Map<string, Counter.Internal>();
  for (const factor_source of sources) {
    for (const source of OUTCOMES) {
      lookups.inc({ factor_source, source }, 0);
      children.set(`${factor_source}/${source}`, lookups.labels({ factor_source, source }));
    }
  }
  return {
    lookup(factorSource, outcome) {
      children.get(`${factorSource}/${outcome}`)?.inc();
    },
  };
}
