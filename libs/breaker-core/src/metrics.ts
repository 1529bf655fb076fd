import { Counter, Gauge, register as globalRegistry, type Metric, type Registry } from 'prom-client';
import type { CircuitBreaker } from './breaker.js';
import { ConfigError } from './errors.js';
import type { BreakerObserver, CallStatus, CircuitState, StateChange, TransitionReason } from './types.js';

export interface MetricsOptions {
  /** Where the collectors are registered (default prom-client's global registry). */
  registry?: Registry;
  /** Upper bounds, in seconds, of the call-duration histogram buckets. */
  buckets?: number[];
}

export const DEFAULT_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const STATUSES: readonly CallStatus[] = ['success', 'failure', 'rejected', 'ignored', 'timeout'];
/** Statuses whose calls ran and so have a duration (a rejection never ran). */
const TIMED_STATUSES: readonly CallStatus[] = ['success', 'failure', 'ignored', 'timeout'];
const STATE_VALUE: Record<CircuitState, number> = {
  closed: 0,
  open: 1,
  half_open: 2,
  forced_open: 1,
  disabled: 0,
  metrics_only: 0,
};

/**
 * One circuit's counts, kept in plain numbers on the call path and read by the collectors at
 * scrape time: updating prom-client directly costs ~200 ns per counter and ~370 ns per
 * histogram observation on this machine, more than the whole breaker.
 */
export class CircuitStats implements BreakerObserver {
  /**
   * Every count in one Float64Array (one ArrayBuffer per circuit, not three): the calls per
   * status, then their duration sums in seconds, then per timed status one count per bucket (not
   * cumulative) and a last one for +Inf. Read through `calls`, `sum` and `bucket`.
   */
  readonly #counts: Float64Array;
  readonly #width: number;
  /** Made on the first transition or shadow trip: most circuits never have one, and a Map is ~100 B. */
  #transitions: Map<string, number> | undefined = undefined;
  #shadowTrips: Map<TransitionReason, number> | undefined = undefined;

  constructor(readonly bounds: readonly number[]) {
    this.#width = bounds.length + 1;
    this.#counts = new Float64Array(2 * STATUSES.length + STATUSES.length * this.#width);
  }

  /** Calls with status index `i` (see STATUSES). */
  calls(i: number): number {
    return this.#counts[i]!;
  }

  /** Sum of the durations, in seconds, of the calls with status index `i`. */
  sum(i: number): number {
    return this.#counts[STATUSES.length + i]!;
  }

  /** Calls with status index `i` whose duration fell in bucket `b` (not cumulative; the last is +Inf). */
  bucket(i: number, b: number): number {
    return this.#counts[2 * STATUSES.length + i * this.#width + b]!;
  }

  get transitions(): ReadonlyMap<string, number> {
    return this.#transitions ?? EMPTY;
  }

  get shadowTrips(): ReadonlyMap<TransitionReason, number> {
    return this.#shadowTrips ?? (EMPTY as ReadonlyMap<TransitionReason, number>);
  }

  onCall(status: CallStatus, durationMs: number): void {
    const i = statusIndex(status);
    const counts = this.#counts;
    counts[i]!++;
    if (Number.isNaN(durationMs)) return;
    const seconds = durationMs / 1000;
    counts[STATUSES.length + i]! += seconds;
    const bounds = this.bounds;
    let b = 0;
    while (b < bounds.length && seconds > bounds[b]!) b++;
    counts[2 * STATUSES.length + i * this.#width + b]!++;
  }

  onTransition(change: StateChange): void {
    const key = `${change.from}\u0000${change.to}`;
    this.#transitions ??= new Map();
    const transitions = this.#transitions;
    transitions.set(key, (transitions.get(key) ?? 0) + 1);
  }

  onShadowTrip(reason: TransitionReason): void {
    this.#shadowTrips ??= new Map();
    const trips = this.#shadowTrips;
    trips.set(reason, (trips.get(reason) ?? 0) + 1);
  }
}

const EMPTY: ReadonlyMap<string, number> = new Map();

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

function statusIndex(status: CallStatus): number {
  switch (status) {
    case 'success':
      return 0;
    case 'failure':
      return 1;
    case 'rejected':
      return 2;
    case 'ignored':
      return 3;
    default:
      return 4;
  }
}

interface Tracked {
  breaker: CircuitBreaker;
  stats: CircuitStats;
}

/** The breaker collectors of one prom-client registry, fed by the CircuitStats of each circuit. */
export class BreakerMetrics {
  readonly bounds: readonly number[];
  readonly #registry: Registry;
  readonly #circuits = new Map<string, Tracked>();

  constructor(options: MetricsOptions = {}) {
    this.#registry = options.registry ?? globalRegistry;
    this.bounds = [...(options.buckets ?? DEFAULT_DURATION_BUCKETS)].sort((a, b) => a - b);
    const circuits = this.#circuits;
    const registers = [this.#registry];
    for (const name of NAMES) {
      if (this.#registry.getSingleMetric(name)) {
        throw new ConfigError(
          `Metric ${name} is already registered: use one BreakerRegistry per prom-client Registry (or close() the old one)`,
        );
      }
    }
    const every = (fn: (t: Tracked) => void) => {
      for (const tracked of circuits.values()) fn(tracked);
    };
    new Gauge({
      name: 'greenlang_circuit_breaker_state',
      help: 'Circuit state: 0 closed (also disabled, metrics_only), 1 open (also forced_open), 2 half_open',
      labelNames: ['circuit_name'],
      registers,
      collect() {
        this.reset();
        every(({ breaker }) => this.set({ circuit_name: breaker.name }, STATE_VALUE[breaker.state]));
      },
    });
    new Counter({
      name: 'greenlang_circuit_breaker_calls_total',
      help: 'Calls through the circuit by outcome: success, failure, rejected, ignored, timeout',
      labelNames: ['circuit_name', 'status'],
      registers,
      collect() {
        this.reset();
        every(({ breaker, stats }) => {
          STATUSES.forEach((status, i) => {
            this.inc({ circuit_name: breaker.name, status }, stats.calls(i));
          });
        });
      },
    });
    new Counter({
      name: 'greenlang_circuit_breaker_not_permitted_calls_total',
      help: 'Calls rejected by an open, forced-open or busy half-open circuit',
      labelNames: ['circuit_name'],
      registers,
      collect() {
        this.reset();
        every(({ breaker, stats }) => this.inc({ circuit_name: breaker.name }, stats.calls(2)));
      },
    });
    new Counter({
      name: 'greenlang_circuit_breaker_state_transitions_total',
      help: 'State changes of the circuit',
      labelNames: ['circuit_name', 'from_state', 'to_state'],
      registers,
      collect() {
        this.reset();
        every(({ breaker, stats }) => {
          for (const [key, count] of stats.transitions) {
            const [from_state, to_state] = key.split('\u0000');
            this.inc({ circuit_name: breaker.name, from_state, to_state }, count);
          }
        });
      },
    });
    new Counter({
      name: 'greenlang_circuit_breaker_shadow_trips_total',
      help: 'Times a circuit in metrics_only mode would have opened, by reason',
      labelNames: ['circuit_name', 'reason'],
      registers,
      collect() {
        this.reset();
        every(({ breaker, stats }) => {
          for (const [reason, count] of stats.shadowTrips) this.inc({ circuit_name: breaker.name, reason }, count);
        });
      },
    });
    // Ratios (0–1), the Prometheus convention the platform's alerts use (failure_rate > 0.5);
    // snapshot() and the config keep percentages. Divided here, not from the percentage, so 1/3 is exact.
    new Gauge({
      name: 'greenlang_circuit_breaker_failure_rate',
      help: 'Failed calls as a ratio (0-1) of the calls in the sliding window',
      labelNames: ['circuit_name'],
      registers,
      collect() {
        this.reset();
        every(({ breaker }) => {
          const { failuresInWindow, callsInWindow } = breaker.snapshot();
          this.set({ circuit_name: breaker.name }, ratio(failuresInWindow, callsInWindow));
        });
      },
    });
    new Gauge({
      name: 'greenlang_circuit_breaker_slow_call_rate',
      help: 'Slow calls as a ratio (0-1) of the calls in the sliding window',
      labelNames: ['circuit_name'],
      registers,
      collect() {
        this.reset();
        every(({ breaker }) => {
          const { slowCallsInWindow, callsInWindow } = breaker.snapshot();
          this.set({ circuit_name: breaker.name }, ratio(slowCallsInWindow, callsInWindow));
        });
      },
    });
    const histogram = new DurationHistogram(this.bounds, circuits);
    this.#registry.registerMetric(histogram as unknown as Metric);
  }

  /** The prom-client registry the collectors are in; clients register their own metrics there too. */
  get registry(): Registry {
    return this.#registry;
  }

  /** The stats object a new breaker reports to; `track` it once the breaker exists. */
  createStats(): CircuitStats {
    return new CircuitStats(this.bounds);
  }

  track(breaker: CircuitBreaker, stats: CircuitStats): void {
    this.#circuits.set(breaker.name, { breaker, stats });
  }

  /** Unregisters every collector, so the registry can be reused. */
  close(): void {
    for (const name of NAMES) this.#registry.removeSingleMetric(name);
    this.#circuits.clear();
  }
}

/**
 * The metric called `name` already in `registry`, or a new one made by `make` and registered
 * there. Clients build their own metrics with it, so two clients in one process share series
 * instead of colliding on the name.
 */
export function ensureMetric<M>(registry: Registry, name: string, make: (registers: Registry[]) => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make([registry]);
}

const NAMES = [
  'greenlang_circuit_breaker_state',
  'greenlang_circuit_breaker_calls_total',
  'greenlang_circuit_breaker_not_permitted_calls_total',
  'greenlang_circuit_breaker_state_transitions_total',
  'greenlang_circuit_breaker_shadow_trips_total',
  'greenlang_circuit_breaker_failure_rate',
  'greenlang_circuit_breaker_slow_call_rate',
  'greenlang_circuit_breaker_call_duration_seconds',
];

/**
 * The call-duration histogram, published from CircuitStats at scrape time. prom-client's
 * Histogram can only be fed one observation at a time, so this object speaks the registry's
 * metric shape itself (`get()` returning name, help, type and values, as prom-client's own do).
 */
class DurationHistogram {
  readonly name = 'greenlang_circuit_breaker_call_duration_seconds';
  readonly help = 'Duration of calls through the circuit by outcome, in seconds';
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly bounds: readonly number[],
    readonly circuits: ReadonlyMap<string, Tracked>,
  ) {}

  async get() {
    const values: MetricValue[] = [];
    for (const { breaker, stats } of this.circuits.values()) {
      for (const status of TIMED_STATUSES) {
        const i = statusIndex(status);
        const labels = { circuit_name: breaker.name, status };
        histogramValues(
          values,
          this.name,
          labels,
          this.bounds,
          (b) => stats.bucket(i, b),
          stats.sum(i),
          stats.calls(i),
        );
      }
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Counts live in CircuitStats; resetting the registry does not rewind them. */
  reset(): void {}
}

export interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * Appends one histogram series in the shape prom-client's registry formats (`_bucket` per bound
 * and `+Inf`, cumulative, then `_sum` and `_count`); `bucket(b)` is the count of bucket `b` alone.
 * `leFirst`: `le` before the other labels, as prom-client's own Histogram writes it.
 */
export function histogramValues(
  values: MetricValue[],
  name: string,
  labels: Record<string, string>,
  bounds: readonly number[],
  bucket: (b: number) => number,
  sum: number,
  count: number,
  leFirst = false,
): void {
  const bucketLabels = (le: number | string) => (leFirst ? { le, ...labels } : { ...labels, le });
  let cumulative = 0;
  bounds.forEach((le, b) => {
    cumulative += bucket(b);
    values.push({ labels: bucketLabels(le), value: cumulative, metricName: `${name}_bucket` });
  });
  values.push({ labels: bucketLabels('+Inf'), value: count, metricName: `${name}_bucket` });
  values.push({ labels, value: sum, metricName: `${name}_sum` });
  values.push({ labels, value: count, metricName: `${name}_count` });
}
