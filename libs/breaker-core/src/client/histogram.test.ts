import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { DEFAULT_DURATION_BUCKETS } from '../metrics.js';
import { scrapedHistogram } from './histogram.js';

describe('scrapedHistogram', () => {
  it('exposes exactly what a prom-client Histogram fed the same observations would', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const options = { name: 'x_seconds', help: 'X', labelNames: ['name', 'outcome'] as const };
    const histogram = scrapedHistogram(ours, options)!;
    const reference = new Histogram({
      ...options,
      labelNames: ['name', 'outcome'],
      buckets: DEFAULT_DURATION_BUCKETS,
      registers: [theirs],
    });
    const observations: Array<[string, string, number]> = [
      ['a', 'success', 0.001],
      ['a', 'success', 0.005], // on a bound: counted in it
      ['a', 'success', 0.3],
      ['a', 'failure', 45], // above every bound: +Inf only
      ['b', 'success', 0.02],
    ];
    for (const [name, outcome, value] of observations) {
      histogram.observe({ name, outcome }, value);
      reference.observe({ name, outcome }, value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('is one histogram per registry, shared by every client that asks for it, and none without a registry', () => {
    const registry = new Registry();
    const options = { name: 'y_seconds', help: 'Y', labelNames: ['name'] as const };
    expect(scrapedHistogram(registry, options)).toBe(scrapedHistogram(registry, options));
    expect(scrapedHistogram(undefined, options)).toBeUndefined();
  });

  it('refuses a label set missing a label, naming it', () => {
    const histogram = scrapedHistogram(new Registry(), { name: 'z', help: 'Z', labelNames: ['name', 'outcome'] })!;
    expect(() => histogram.observe({ name: 'a' } as never, 1)).toThrow(ConfigError);
    expect(() => histogram.observe({ name: 'a' } as never, 1)).toThrow(
      'z: label outcome: expected a string, got undefined',
    );
  });
});
