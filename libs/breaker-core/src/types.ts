/** Automatic states (closed, open, half_open) and the manual modes an operator can set. */
export type CircuitState = 'closed' | 'open' | 'half_open' | 'forced_open' | 'disabled' | 'metrics_only';

/** What a classifier decides about an error thrown by a protected call. */
export type Classification = 'failure' | 'ignore' | 'success';

/** Why the circuit changed state. */
export type TransitionReason =
  | 'failure_count'
  | 'failure_rate'
  | 'slow_call_rate'
  | 'trial_failure'
  | 'trial_timeout'
  | 'open_duration_elapsed'
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
