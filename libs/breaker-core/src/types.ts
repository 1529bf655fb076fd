import type { Logger } from 'pino';
import type { StateSync } from './sync.js';

/** Automatic states (closed, open, half_open) and the manual modes an operator can set. */
export type CircuitState = 'closed' | 'open' | 'half_open' | 'forced_open' | 'disabled' | 'metrics_only';

/** What a classifier decides about an error thrown by a protected call. */
export type Classification = 'failure' | 'ignore' | 'success';

/** Why the circuit changed state. */
export type TransitionReason =
  | 'failure_count'
  | 'failure_rate'
  | 'slow_call_rate'
  /** A failure carried Retry-After and the breaker has `openOnRetryAfter`. */
  | 'retry_after'
  | 'trial_failure'
  | 'trial_timeout'
  | 'open_duration_elapsed'
  | 'recovery_signal'
  /** Another replica opened the circuit (a StateSync adopted it here). */
  | 'peer_open'
  /** Another replica's trial calls succeeded (a StateSync adopted the closing here). */
  | 'peer_close'
  | 'trial_success'
  | 'forced_open'
  | 'disabled'
  | 'metrics_only'
  | 'reset';

export interface StateChange {
  circuitName: string;
  from: CircuitState;
  to: CircuitState;
  reason: TransitionReason;
  /** Clock time of the change, in milliseconds. */
  at: number;
  /** When the circuit was opened: the clock time from which trial calls are let through. */
  nextTrialAt?: number;
  /** The failure that counted last before the change (for openings). */
  lastError?: unknown;
}

/** Where a value came from: every client result says it, the same way. */
export type ValueSource = 'live' | 'cache' | 'stale' | 'default' | 'failover' | 'queued';

export interface Sourced<T, S extends string = ValueSource> {
  value: T;
  source: S;
}

export type CallStatus = 'success' | 'failure' | 'rejected' | 'ignored' | 'timeout';

/** Receives every call outcome and transition; the registry's metrics implement it. */
export interface BreakerObserver {
  /** `durationMs` is NaN for calls that never ran (rejections). */
  onCall(status: CallStatus, durationMs: number): void;
  onTransition(change: StateChange): void;
  /** In `metrics_only` mode: the circuit would have opened for `reason`. */
  onShadowTrip(reason: TransitionReason): void;
}

export interface BreakerRuntime {
  logger?: Logger;
  observer?: BreakerObserver;
  /** Shares this circuit's transitions with other replicas (see StateSync). */
  sync?: StateSync;
}

export interface ExecuteOptions {
  /** The caller's own signal: combined with the call deadline; an abort counts as neither failure nor success. */
  signal?: AbortSignal;
}

export interface BreakerSnapshot {
  name: string;
  state: CircuitState;
  critical: boolean;
  /**
   * Percentages (0–100) over the calls now in the window (0 when it is empty), in the unit of
   * the thresholds they are compared with. The Prometheus gauges publish them as 0–1 ratios.
   */
  failureRate: number;
  slowCallRate: number;
  callsInWindow: number;
  failuresInWindow: number;
  /** Slow calls (at least `slowCallDurationMs`, successful or not) now in the window. */
  slowCallsInWindow: number;
  lastTransition: { from: CircuitState; to: CircuitState; reason: TransitionReason; at: number } | undefined;
  /** Clock time from which trial calls are let through, while open. */
  nextTrialAt: number | undefined;
}

/** Why the circuit refused a call: what CircuitOpenError carries, as a plain value. */
export interface Refusal {
  circuitName: string;
  state: CircuitState;
  /** Whole milliseconds (rounded up) until a trial call will be let through; undefined when forced open or half-open busy. */
  retryAfterMs: number | undefined;
  lastError: unknown;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };
