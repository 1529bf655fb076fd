import { BreakerRegistry, CircuitBreaker, fallbackChain } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import {
  CircuitState,
  ConsecutiveBreaker,
  CountBreaker,
  circuitBreaker,
  fallback,
  handleAll,
  type IBreaker,
  wrap,
} from 'cockatiel';
import Opossum from 'opossum';
import PrometheusMetrics from 'opossum-prometheus';
import { Counter, Histogram, Registry } from 'prom-client';
import type { Subject } from './harness.js';

/** The protected call: resolves at once, so what is measured is the wrapper. */
export const succeed = (): Promise<number> => Promise.resolve(1);
/** One shared error, so the cost of building errors is not the caller's. */
const FAILURE = new Error('upstream down');
export const failing = (): Promise<number> => Promise.reject(FAILURE);
export const FALLBACK = 0;
const swallow = () => FALLBACK;
const HOUR = 3_600_000;
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const ours = {
  count: (failMax = 5) => new CircuitBreaker({ name: 'bench', slidingWindow: { kind: 'count', size: 100 }, failMax }),
  time: () => new CircuitBreaker({ name: 'bench', slidingWindow: { kind: 'time', seconds: 60 } }),
  withMetrics() {
    const registry = new BreakerRegistry({ metrics: { registry: new Registry() }, logger: silentLogger() });
    return {
      breaker: registry.breaker('bench', { slidingWindow: { kind: 'count', size: 100 } }),
      dispose: () => registry.close(),
    };
  },
  async open() {
    const breaker = new CircuitBreaker({ name: 'bench', failMax: 1, openDurationMs: HOUR });
    await breaker.execute(failing).catch(swallow);
    return breaker;
  },
};

export const cockatiel = {
  policy: (breaker: IBreaker) => circuitBreaker(handleAll, { halfOpenAfter: HOUR, breaker }),
  consecutive: (threshold = 5) => cockatiel.policy(new ConsecutiveBreaker(threshold)),
  count: () => cockatiel.policy(new CountBreaker({ threshold: 0.5, size: 100 })),
  /** Prometheus counter and histogram fed from the policy's events, children bound once. */
  withMetrics() {
    const policy = cockatiel.count();
    const registers = [new Registry()];
    const calls = new Counter({ name: 'calls_total', help: 'h', labelNames: ['circuit_name', 'status'], registers });
    const duration = new Histogram({
      name: 'duration_seconds',
      help: 'h',
      labelNames: ['circuit_name', 'status'],
      buckets: BUCKETS,
      registers,
    });
    const ok = { calls: calls.labels('bench', 'success'), duration: duration.labels('bench', 'success') };
    const bad = { calls: calls.labels('bench', 'failure'), duration: duration.labels('bench', 'failure') };
    policy.onSuccess(({ duration: ms }) => {
      ok.calls.inc();
      ok.duration.observe(ms / 1000);
    });
    policy.onFailure(({ duration: ms }) => {
      bad.calls.inc();
      bad.duration.observe(ms / 1000);
    });
    return policy;
  },
  async open() {
    const policy = cockatiel.consecutive(1);
    await policy.execute(failing).catch(swallow);
    if (policy.state !== CircuitState.Open) throw new Error('cockatiel did not open');
    return policy;
  },
};

export const opossum = {
  make: (fn: () => Promise<number>, options: Opossum.Options = {}) => new Opossum(fn, { name: 'bench', ...options }),
  withMetrics() {
    const breaker = opossum.make(succeed, { timeout: false });
    const metrics = new PrometheusMetrics({ circuits: [breaker], registry: new Registry() });
    const dispose = () => {
      metrics.clear();
      breaker.shutdown();
    };
    return { breaker, dispose };
  },
  open() {
    const breaker = opossum.make(succeed, { timeout: false, resetTimeout: HOUR });
    breaker.open();
    return breaker;
  },
};

export const subject = (scenario: string, label: string, make: Subject['make']): Subject => ({
  scenario,
  label,
  make,
});

/** The peers' subjects of a scenario, the same in the isolated and the realistic section. */
export const peerSubjects = {
  closed: (s: string): Subject[] => [
    subject(s, 'cockatiel ConsecutiveBreaker(5)', () => {
      const p = cockatiel.consecutive();
      return { call: () => p.execute(succeed) };
    }),
    subject(s, 'cockatiel CountBreaker(100)', () => {
      const p = cockatiel.count();
      return { call: () => p.execute(succeed) };
    }),
    subject(s, 'opossum timeout: false', () => {
      const b = opossum.make(succeed, { timeout: false });
      return { call: () => b.fire(), dispose: () => b.shutdown() };
    }),
    subject(s, 'opossum defaults (10 s timeout)', () => {
      const b = opossum.make(succeed);
      return { call: () => b.fire(), dispose: () => b.shutdown() };
    }),
  ],
  metrics: (m: string): Subject[] => [
    subject(m, 'cockatiel + prom-client from events', () => {
      const p = cockatiel.withMetrics();
      return { call: () => p.execute(succeed) };
    }),
    subject(m, 'opossum + opossum-prometheus', () => {
      const { breaker, dispose } = opossum.withMetrics();
      return { call: () => breaker.fire(), dispose };
    }),
  ],
  open: (o: string): Subject[] => [
    subject(o, 'cockatiel BrokenCircuitError', async () => {
      const p = await cockatiel.open();
      return { call: () => p.execute(succeed).catch(swallow) };
    }),
    subject(o, 'opossum OpenCircuitError', () => {
      const b = opossum.open();
      return { call: () => b.fire().catch(swallow), dispose: () => b.shutdown() };
    }),
  ],
  fallback: (fb: string): Subject[] => [
    subject(fb, 'cockatiel wrap(fallback, breaker)', async () => {
      const policy = wrap(fallback(handleAll, FALLBACK), await cockatiel.open());
      return { call: () => policy.execute(succeed) };
    }),
    subject(fb, 'opossum .fallback()', () => {
      const b = opossum.open();
      b.fallback(() => FALLBACK);
      return { call: () => b.fire(), dispose: () => b.shutdown() };
    }),
  ],
};

/** Per-call micro benchmarks, grouped by scenario; the first subject of each scenario is its reference. */
export function microSubjects(): Subject[] {
  const s = 'closed success';
  const m = 'closed success + Prometheus';
  const f = 'closed failure (below threshold)';
  const o = 'open: rejection (caught)';
  const fb = 'open: fallback value';
  return [
    subject(s, 'baseline await fn()', () => ({ call: () => succeed() })),
    subject(s, 'ours (count 100)', () => {
      const b = ours.count();
      return { call: () => b.execute(succeed) };
    }),
    subject(s, 'ours (time 60 s)', () => {
      const b = ours.time();
      return { call: () => b.execute(succeed) };
    }),
    ...peerSubjects.closed(s),

    subject(m, 'baseline await fn()', () => ({ call: () => succeed() })),
    subject(m, 'ours + prom-client (collect at scrape)', () => {
      const { breaker, dispose } = ours.withMetrics();
      return { call: () => breaker.execute(succeed), dispose };
    }),
    ...peerSubjects.metrics(m),

    subject(f, 'baseline await fn() (caught)', () => ({ call: () => failing().catch(swallow) })),
    subject(f, 'ours (count 100)', () => {
      const b = ours.count(Number.POSITIVE_INFINITY);
      return { call: () => b.execute(failing).catch(swallow) };
    }),
    subject(f, 'cockatiel ConsecutiveBreaker(∞)', () => {
      const p = cockatiel.consecutive(Number.MAX_SAFE_INTEGER);
      return { call: () => p.execute(failing).catch(swallow) };
    }),
    // Percentiles off: with them on, opossum re-sorts its latencies on every failure, so the
    // cost grows with the failures in its window (0.1–1 ms per call seen) and no number is stable.
    subject(f, 'opossum timeout: false, no percentiles', () => {
      const options = {
        timeout: false as const,
        volumeThreshold: Number.MAX_SAFE_INTEGER,
        rollingPercentilesEnabled: false,
      };
      const b = opossum.make(failing, options);
      return { call: () => b.fire().catch(swallow), dispose: () => b.shutdown() };
    }),

    subject(o, 'ours execute → CircuitOpenError', async () => {
      const b = await ours.open();
      return { call: () => b.execute(succeed).catch(swallow) };
    }),
    ...peerSubjects.open(o),

    subject(fb, 'ours tryExecute → fallback', async () => {
      const b = await ours.open();
      return {
        call: async () => {
          const outcome = await b.tryExecute(succeed);
          return outcome.ok ? outcome.value : FALLBACK;
        },
      };
    }),
    subject(fb, 'ours fallbackChain (live → default)', async () => {
      const b = await ours.open();
      const steps = [
        { source: 'live' as const, run: () => b.execute(succeed) },
        { source: 'default' as const, run: () => FALLBACK },
      ];
      return { call: () => fallbackChain(steps) };
    }),
    ...peerSubjects.fallback(fb),
  ];
}

/** 10 000 calls in flight at once; fn resolves after setImmediate. */
export function concurrencySubjects(): Subject[] {
  const later = () => new Promise<number>((resolve) => setImmediate(() => resolve(1)));
  const all = (one: () => Promise<unknown>) => () => Promise.all(Array.from({ length: 10_000 }, one));
  const c = '10 000 concurrent calls';
  return [
    subject(c, 'baseline', () => ({ call: all(() => later()) })),
    subject(c, 'ours (count 100)', () => {
      const b = ours.count();
      return { call: all(() => b.execute(later)) };
    }),
    subject(c, 'cockatiel ConsecutiveBreaker(5)', () => {
      const p = cockatiel.consecutive();
      return { call: all(() => p.execute(later)) };
    }),
    subject(c, 'opossum timeout: false', () => {
      const b = opossum.make(later, { timeout: false });
      return { call: all(() => b.fire()), dispose: () => b.shutdown() };
    }),
  ];
}
