import type { Metric, Registry } from 'prom-client';
import { ConfigError } from '../errors.js';
import { DEFAULT_DURATION_BUCKETS, ensureMetric, histogramValues, type MetricValue } from '../metrics.js';

export interface ScrapedHistogramOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds of the buckets (default breaker-core's duration buckets, in seconds). */
  buckets?: readonly number[];
}

/**
 * A labelled histogram counted in plain numbers on the call path and published at scrape time,
 * as breaker-core's own call-duration histogram is: prom-client's `observe` validates and hashes
 * the labels on every call (~0.7 µs, ~3 µs on a busy 2-core machine, a tenth of what db-client
 * adds to a local query). Same exposition as a prom-client Histogram of the same name.
 */
export class ScrapedHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly bounds: readonly number[];
  /** Every label set seen, in order: one count per bucket (not cumulative, the last is +Inf), then the sum. */
  readonly #series: Array<{ labels: Record<L, string>; counts: Float64Array }> = [];
  /**
   * The counts of a label set, found by one Map per label (value → next level): no key string is
   * built per call, and label values (usually the same string constants) keep their hash.
   */
  #index = new Map<string, unknown>();

  constructor(options: ScrapedHistogramOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = [...options.labelNames];
    this.bounds = [...(options.buckets ?? DEFAULT_DURATION_BUCKETS)];
  }

  observe(labels: Record<L, string>, value: number): void {
    const names = this.labelNames;
    const last = names.length - 1;
    let level = this.#index;
    for (let i = 0; i < last; i++) {
      const label = labels[names[i]!];
      let next = level.get(label) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(label, next);
      }
      level = next;
    }
    const leaf = last < 0 ? '' : labels[names[last]!];
    let counts = level.get(leaf) as Float64Array | undefined;
    if (counts === undefined) {
      counts = new Float64Array(this.bounds.length + 2);
      this.#series.push({ labels: this.#checked(labels), counts });
      level.set(leaf, counts);
    }
    const bounds = this.bounds;
    let b = 0;
    while (b < bounds.length && value > bounds[b]!) b++;
    counts[b]!++;
    counts[bounds.length + 1]! += value;
  }

  async get() {
    const values: MetricValue[] = [];
    const last = this.bounds.length;
    for (const { labels, counts } of this.#series) {
      let count = 0;
      for (let b = 0; b <= last; b++) count += counts[b]!;
      histogramValues(values, this.name, labels, this.bounds, (b) => counts[b]!, counts[last + 1]!, count, true);
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** As prom-client's: every series goes (registry.resetMetrics()). */
  reset(): void {
    this.#series.length = 0;
    this.#index = new Map();
  }

  #checked(labels: Record<L, string>): Record<L, string> {
    const copy = {} as Record<L, string>;
    for (const name of this.labelNames) {
      const value = labels[name];
      if (typeof value !== 'string') {
        throw new ConfigError(`${this.name}: label ${name}: expected a string, got ${typeof value}`, [
          { path: name, message: `expected a string, got ${typeof value}` },
        ]);
      }
      copy[name] = value;
    }
    return copy;
  }
}

/**
 * A client's histogram on the registry's prom-client registry (the same one when two clients make
 * it). Undefined when the registry publishes no metrics.
 */
export function scrapedHistogram<L extends string>(
  registry: Registry | undefined,
  options: ScrapedHistogramOptions<L>,
): ScrapedHistogram<L> | undefined {
  if (!registry) return undefined;
  return ensureMetric(registry, options.name, () => {
    const histogram = new ScrapedHistogram(options);
    registry.registerMetric(histogram as unknown as Metric);
    return histogram;
  });
}
