import { Counter, type Registry } from 'prom-client';
import { ensureMetric } from '../metrics.js';

export interface ZeroedCounterOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Every label combination the counter can take: each starts at 0, so rate() and absent() work from the first scrape. */
  series: ReadonlyArray<Partial<Record<L, string>>>;
}

/**
 * A client's counter on the registry's prom-client registry (the same one when two clients make
 * it), every series started at 0. Undefined when the registry publishes no metrics.
 */
export function zeroedCounter<L extends string>(
  registry: Registry | undefined,
  options: ZeroedCounterOptions<L>,
): Counter<L> | undefined {
  if (!registry) return undefined;
  const { name, help, labelNames, series } = options;
  const counter = ensureMetric(
    registry,
    name,
    (registers) => new Counter<L>({ name, help, labelNames: [...labelNames], registers }),
  );
  for (const labels of series) counter.inc(labels, 0);
  return counter;
}
