import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.js';
import { BulkheadFullError, CircuitOpenError, errorMessage, type TimeoutError } from './errors.js';
import { logTransition } from './logging.js';
import { type BreakerConfig, type ResolvedBreakerConfig, resolveBreakerConfig } from './options.js';
import { runWithDeadline } from './policies/timeout.js';
import { idleSignal } from './signals.js';
import type { StateSync } from './sync.js';
import type {
  BreakerObserver,
  BreakerRuntime,
  BreakerSnapshot,
  CircuitState,
  Classification,
  ExecuteOptions,
  Outcome,
  Refusal,
  StateChange,
  TransitionReason,
} from './types.js';
import { createWindow, type SlidingWindow } from './windows/window.js';

type Listener = (change: StateChange) => void;

// How a call is accounted for: a normal call, a half-open trial holding a permit, or (disabled) not at all.
const NORMAL = 0;
const TRIAL = 1;
const UNRECORDED = 2;
const REFUSED = -1;
type CallKind = typeof NORMAL | typeof TRIAL | typeof UNRECORDED;

/**
 * A circuit breaker: closed → open on too many failures or slow calls in its sliding window,
 * open → half-open after the open duration (checked lazily: no timers while idle), half-open →
 * closed after enough trial successes or back to open on a trial failure. A trial counts only
 * within its own half-open period; an ordinary call only while the circuit is counting.
 */
export class CircuitBreaker {
  readonly name: string;
  readonly config: ResolvedBreakerConfig;
  readonly #classify: (error: unknown) => Classification;
  readonly #clock: Clock;
  readonly #window: SlidingWindow;
  readonly #observer: BreakerObserver | undefined;
  /** Other replicas' view of this circuit: asked only when an open period runs out. */
  readonly #sync: StateSync | undefined;
  /** Whether calls are timed (metrics or slow-call detection need durations). */
  readonly #timed: boolean;
  readonly #needsNow: boolean;
  #baseLogger: Logger | undefined;
  #logger: Logger | undefined;
  #state: CircuitState = 'closed';
  /** Bumped on every transition: a trial's result counts only within the half-open period it was admitted in. */
  #generation = 0;
  #openedAt = 0;
  #openUntil = 0;
  #trialsInFlight = 0;
  #trialSuccesses = 0;
  #consecutiveTrips = 0;
  /** The latest time a failure's Retry-After asked us to stay away until. */
  #retryAfterUntil = 0;
  #lastError: unknown;
  #lastTransition: BreakerSnapshot['lastTransition'];
  #listeners: Set<Listener> | undefined;

  constructor(config: BreakerConfig, runtime: BreakerRuntime = {}) {
    this.config = resolveBreakerConfig(config);
    this.name = this.config.name;
    this.#classify = config.classify ?? classifyAllAsFailure;
    this.#clock = config.clock ?? systemClock;
    this.#window = createWindow(this.config.slidingWindow);
    this.#observer = runtime.observer;
    this.#baseLogger = runtime.logger;
    this.#timed = this.#observer !== undefined || this.config.slowCallDurationMs !== undefined;
    this.#needsNow = this.#timed || this.#window.needsTime;
    if (this.config.mode) this.#state = this.config.mode;
    this.#sync = runtime.sync;
    this.#sync?.attach(this);
  }

  get state(): CircuitState {
    if (this.#state === 'open') this.#halfOpenIfDue(this.#clock.now(), false);
    return this.#state;
  }

  /**
   * Runs `fn` through the circuit. `fn` gets an AbortSignal that fires at the call deadline
   * (`callTimeoutMs`) or when the caller's signal aborts. Rejects with CircuitOpenError when the
   * circuit refuses the call, TimeoutError at the deadline, or fn's own error unchanged.
   */
  execute<T>(fn: (signal: AbortSignal) => Promise<T> | T, options?: ExecuteOptions): Promise<T> {
    const signal = options?.signal;
    // An abandoned call takes no permit and counts as nothing.
    if (signal?.aborted) return Promise.reject(signal.reason);
    const kind = this.#admit();
    if (kind === REFUSED) {
      const { circuitName, state, retryAfterMs, lastError } = this.#refusal();
      return Promise.reject(new CircuitOpenError(circuitName, state, retryAfterMs, lastError));
    }
    return this.#run(fn, kind, signal);
  }

  /**
   * Like `execute`, but a refusal by the circuit resolves to `{ ok: false, refusal }` instead of
   * rejecting: no error is built and no promise rejected, which on Node 20 saves ~1.4 µs per
   * refused call — the path every caller takes while a dependency is down. Errors of `fn` itself
   * (and timeouts, caller aborts) still reject.
   */
  tryExecute<T>(fn: (signal: AbortSignal) => Promise<T> | T, options?: ExecuteOptions): Promise<Outcome<T>> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const kind = this.#admit();
    if (kind === REFUSED) return Promise.resolve({ ok: false, refusal: this.#refusal() });
    return this.#run(fn, kind, signal).then(toOk);
  }

  /** Rejects every call until `reset()`. */
  forceOpen(): void {
    this.#transition('forced_open', 'forced_open', this.#clock.now());
  }

  /** Lets every call through and records nothing until `reset()`. */
  disable(): void {
    this.#transition('disabled', 'disabled', this.#clock.now());
  }

  /** Shadow mode: records and reports when it would have opened, but blocks nothing. */
  metricsOnly(): void {
    this.#transition('metrics_only', 'metrics_only', this.#clock.now());
  }

  /**
   * A recovery signal: the client has its own evidence that the dependency is back (its
   * connection became ready again). An open circuit goes half-open now, so the next calls are
   * trials instead of waiting out the open period; any other state is left alone. True when it moved.
   */
  allowTrial(): boolean {
    if (this.#state !== 'open') return false;
    this.#transition('half_open', 'recovery_signal', this.#clock.now());
    return true;
  }

  /**
   * Another replica opened this circuit (a StateSync tells): a closed or half-open circuit opens
   * for `remainingMs` (reason `peer_open`, capped by `maxOpenDurationMs`); an open one takes that
   * as its new end of the open period. The manual modes are left alone. True when it moved.
   */
  adoptOpen(remainingMs: number): boolean {
    const state = this.#state;
    if (!(remainingMs > 0)) return false;
    const now = this.#clock.now();
    const until = now + Math.min(remainingMs, this.config.maxOpenDurationMs);
    if (state === 'open') {
      this.#openUntil = until;
      return false;
    }
    if (state !== 'closed' && state !== 'half_open') return false;
    this.#openedAt = now;
    this.#openUntil = until;
    this.#transition('open', 'peer_open', now);
    return true;
  }

  /**
   * Another replica's trial calls succeeded (a StateSync tells): an open or half-open circuit
   * closes (reason `peer_close`); any other state is left alone. True when it moved.
   */
  adoptClose(): boolean {
    const state = this.#state;
    if (state !== 'open' && state !== 'half_open') return false;
    this.#transition('closed', 'peer_close', this.#clock.now());
    return true;
  }

  /** Back to closed with an empty window, from any state or mode. */
  reset(): void {
    this.#transition('closed', 'reset', this.#clock.now());
  }

  /** Calls `listener` on every state change; returns the function that unsubscribes it. */
  onStateChange(listener: Listener): () => void {
    this.#listeners ??= new Set();
    this.#listeners.add(listener);
    return () => this.#listeners?.delete(listener);
  }

  snapshot(): BreakerSnapshot {
    const state = this.state;
    const window = this.#window;
    window.refresh(this.#clock.now());
    const calls = window.calls;
    return {
      name: this.name,
      state,
      critical: this.config.critical,
      failureRate: calls === 0 ? 0 : (window.failures * 100) / calls,
      slowCallRate: calls === 0 ? 0 : (window.slowCalls * 100) / calls,
      callsInWindow: calls,
      failuresInWindow: window.failures,
      slowCallsInWindow: window.slowCalls,
      lastTransition: this.#lastTransition,
      nextTrialAt: state === 'open' ? this.#openUntil : undefined,
    };
  }

  // fn's own promise goes back to the caller and the breaker watches it from the side: the
  // caller's await is not chained behind ours, and a failure is not rejected a second time
  // (each rejection costs ~550 ns on Node 20). Only ordinary calls come here: trials always
  // have a deadline, so they take #runGuarded.
  #runPlain<T>(fn: (signal: AbortSignal) => Promise<T> | T, kind: CallKind, start: number): Promise<T> {
    let result: Promise<T> | T;
    try {
      result = fn(idleSignal(fn));
    } catch (error) {
      this.#settleError(error, kind, 0, start);
      return Promise.reject(error);
    }
    const promise = result instanceof Promise ? result : Promise.resolve(result);
    if (kind === UNRECORDED) return promise;
    // Untimed calls share two handlers made once per breaker: with many calls in flight,
    // closures per call (and the scavenges they cause) would double the cost.
    if (!this.#timed) promise.then(this.#onValue, this.#onError);
    else {
      promise.then(
        () => this.#settleSuccess(kind, 0, start),
        (error: unknown) => this.#settleError(error, kind, 0, start),
      );
    }
    return promise;
  }

  readonly #onValue = (): void => this.#settleSuccess(NORMAL, 0, 0);
  readonly #onError = (error: unknown): void => this.#settleError(error, NORMAL, 0, 0);

  #runGuarded<T>(
    fn: (signal: AbortSignal) => Promise<T> | T,
    kind: CallKind,
    start: number,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const generation = this.#generation;
    let timedOut: TimeoutError | undefined;
    const promise = runWithDeadline(fn, {
      timeoutMs,
      signal,
      clock: this.#clock,
      circuitName: this.name,
      // Settled at the deadline itself, so a hung trial reopens the circuit on time.
      onTimeout: (error) => {
        timedOut = error;
        this.#settleTimeout(error, kind, generation, start);
      },
    });
    promise.then(
      () => this.#settleSuccess(kind, generation, start),
      (error: unknown) => {
        if (error === timedOut) return;
        if (signal?.aborted) this.#settleAbort(kind, generation, start);
        else this.#settleError(error, kind, generation, start);
      },
    );
    return promise;
  }

  /** How the next call is accounted for, or REFUSED. Closed is decided first: it is the hot path. */
  #admit(): CallKind | typeof REFUSED {
    const state = this.#state;
    if (state === 'closed' || state === 'metrics_only') return NORMAL;
    if (state === 'disabled') return UNRECORDED;
    return this.#admitTrial() ? TRIAL : REFUSED;
  }

  #run<T>(fn: (signal: AbortSignal) => Promise<T> | T, kind: CallKind, signal: AbortSignal | undefined): Promise<T> {
    const config = this.config;
    const timeoutMs = kind === TRIAL ? (config.callTimeoutMs ?? config.trialTimeoutMs) : config.callTimeoutMs;
    const start = this.#timed ? this.#clock.now() : 0;
    if (timeoutMs === undefined && signal === undefined) return this.#runPlain(fn, kind, start);
    return this.#runGuarded(fn, kind, start, timeoutMs, signal);
  }

  #admitTrial(): boolean {
    const state = this.#state;
    if (state === 'open' && !this.#halfOpenIfDue(this.#clock.now(), true)) return false;
    if (this.#state !== 'half_open' || this.#trialsInFlight >= this.config.halfOpenMaxCalls) return false;
    this.#trialsInFlight++;
    return true;
  }

  #refusal(): Refusal {
    const state = this.#state;
    // Whole ms, rounded up: a caller who waits that long finds a trial due (clock times are fractional).
    const retryAfterMs = state === 'open' ? Math.max(0, Math.ceil(this.#openUntil - this.#clock.now())) : undefined;
    this.#observer?.onCall('rejected', Number.NaN);
    return { circuitName: this.name, state, retryAfterMs, lastError: this.#lastError };
  }

  /** `forCall`: a call waits to be admitted; a mere read of `state` (a health check) never takes the cluster's probe. */
  #halfOpenIfDue(now: number, forCall: boolean): boolean {
    if (now < this.#openUntil) return false;
    if (this.#sync !== undefined) {
      if (!forCall) return false;
      // Another replica may hold the cluster's probe: stay open while it tries.
      let wait = 0;
      try {
        wait = this.#sync.probeDelay(this, now);
      } catch {}
      if (wait > 0) {
        this.#openUntil = now + wait;
        return false;
      }
    }
    this.#transition('half_open', 'open_duration_elapsed', now);
    return true;
  }

  /** The clock time at a call's end, read only when timing or the window needs it (0 otherwise). */
  #end(): number {
    return this.#needsNow ? this.#clock.now() : 0;
  }

  #duration(start: number, end: number): number {
    return this.#timed ? end - start : Number.NaN;
  }

  #settleSuccess(kind: CallKind, generation: number, start: number): void {
    if (kind === UNRECORDED) return;
    const now = this.#end();
    const duration = this.#duration(start, now);
    this.#observer?.onCall('success', duration);
    if (!this.#moves(kind, generation)) return;
    if (kind === TRIAL) {
      this.#trialsInFlight--;
      if (this.#isSlow(duration)) this.#open('slow_call_rate', now);
      else if (++this.#trialSuccesses >= this.config.successThreshold) this.#transition('closed', 'trial_success', now);
      return;
    }
    this.#record(false, duration, now);
  }

  #settleError(error: unknown, kind: CallKind, generation: number, start: number): void {
    if (kind === UNRECORDED) return;
    let verdict: Classification;
    try {
      // A full bulkhead is our own saturation, never the dependency's failure.
      verdict = error instanceof BulkheadFullError ? 'ignore' : this.#classify(error);
    } catch {
      verdict = 'failure';
    }
    if (verdict === 'success') this.#settleSuccess(kind, generation, start);
    else if (verdict === 'ignore') this.#settleAbort(kind, generation, start);
    else this.#settleFailure(error, 'failure', kind, generation, start);
  }

  #settleTimeout(error: TimeoutError, kind: CallKind, generation: number, start: number): void {
    if (kind !== UNRECORDED) this.#settleFailure(error, 'timeout', kind, generation, start);
  }

  /** Neither failure nor success: the caller aborted, or the classifier ignored the error. */
  #settleAbort(kind: CallKind, generation: number, start: number): void {
    if (kind === UNRECORDED) return;
    if (this.#observer) this.#observer.onCall('ignored', this.#duration(start, this.#end()));
    if (kind === TRIAL && generation === this.#generation) this.#trialsInFlight--;
  }

  #settleFailure(
    error: unknown,
    status: 'failure' | 'timeout',
    kind: CallKind,
    generation: number,
    start: number,
  ): void {
    const now = this.#end();
    const duration = this.#duration(start, now);
    this.#observer?.onCall(status, duration);
    this.#lastError = error;
    const retryAfterMs = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    const asksRetryAfter = typeof retryAfterMs === 'number' && retryAfterMs > 0;
    if (asksRetryAfter) {
      const at = (this.#needsNow ? now : this.#clock.now()) + retryAfterMs;
      if (at > this.#retryAfterUntil) this.#retryAfterUntil = at;
      // A late call's Retry-After keeps an open circuit open longer, within the same cap.
      if (this.#state === 'open') {
        this.#openUntil = Math.max(this.#openUntil, Math.min(at, this.#openedAt + this.config.maxOpenDurationMs));
      }
    }
    if (!this.#moves(kind, generation)) return;
    if (kind === TRIAL) {
      this.#open(status === 'timeout' ? 'trial_timeout' : 'trial_failure', this.#clock.now());
      return;
    }
    this.#record(true, duration, now, asksRetryAfter && this.config.openOnRetryAfter);
  }

  /**
   * Whether a finished call may move the state machine: a trial only within its own half-open
   * period; an ordinary call whenever the circuit is counting (closed or metrics_only) — as in
   * resilience4j, a call that finishes while the circuit is open or half-open is not counted.
   */
  #moves(kind: CallKind, generation: number): boolean {
    if (kind === TRIAL) return generation === this.#generation;
    const state = this.#state;
    return state === 'closed' || state === 'metrics_only';
  }

  #isSlow(duration: number): boolean {
    const threshold = this.config.slowCallDurationMs;
    return threshold !== undefined && duration >= threshold;
  }

  /** `retryAfter`: the failure asked to stay away (Retry-After) and the breaker opens on that alone. */
  #record(failed: boolean, duration: number, now: number, retryAfter = false): void {
    const window = this.#window;
    window.record(failed, this.#isSlow(duration), now);
    // Every threshold is positive (failMax ≥ 1, rates > 0): a window holding no failure and no
    // slow call cannot trip, so the healthy path ends here without judging the window.
    if (window.failures === 0 && window.slowCalls === 0 && !retryAfter) return;
    // A window trip keeps its reason (and an open duration of at least openDurationMs).
    const reason = this.#tripReason(window) ?? (retryAfter ? 'retry_after' : undefined);
    if (reason === undefined) return;
    if (this.#state === 'metrics_only') {
      window.reset();
      try {
        this.#observer?.onShadowTrip(reason);
        this.#log()?.warn(
          { reason, lastError: errorMessage(this.#lastError) },
          'circuit would have opened (metrics_only: nothing blocked)',
        );
      } catch {}
      return;
    }
    this.#open(reason, this.#needsNow ? now : this.#clock.now());
  }

  #tripReason(window: SlidingWindow): TransitionReason | undefined {
    const config = this.config;
    if (window.failures >= config.failMax) return 'failure_count';
    if (window.calls < config.minimumCalls) return undefined;
    const threshold = config.failureRateThreshold;
    if (threshold !== undefined && window.failures * 100 >= threshold * window.calls) return 'failure_rate';
    if (
      config.slowCallDurationMs !== undefined &&
      window.slowCalls * 100 >= config.slowCallRateThreshold * window.calls
    )
      return 'slow_call_rate';
    return undefined;
  }

  #open(reason: TransitionReason, now: number): void {
    const config = this.config;
    this.#consecutiveTrips++;
    const asked = this.#retryAfterUntil - now;
    // Opened by Retry-After alone: the upstream said how long, so no less and no more than that.
    const grown =
      reason === 'retry_after'
        ? 0
        : config.openDurationMs * config.openDurationMultiplier ** (this.#consecutiveTrips - 1);
    this.#retryAfterUntil = 0;
    this.#openedAt = now;
    this.#openUntil = now + Math.min(Math.max(grown, asked), config.maxOpenDurationMs);
    this.#transition('open', reason, now);
  }

  #transition(to: CircuitState, reason: TransitionReason, now: number): void {
    const from = this.#state;
    if (from === to && to !== 'closed') return;
    this.#state = to;
    this.#generation++;
    this.#trialsInFlight = 0;
    this.#trialSuccesses = 0;
    if (to === 'closed' || to === 'metrics_only') {
      this.#window.reset();
      this.#consecutiveTrips = 0;
      this.#retryAfterUntil = 0;
    }
    if (from === to) return;
    this.#lastTransition = { from, to, reason, at: now };
    const change: StateChange = { circuitName: this.name, from, to, reason, at: now };
    if (to === 'open') {
      change.nextTrialAt = this.#openUntil;
      change.lastError = this.#lastError;
    }
    // Reporting runs inside promise handlers: nothing it throws may escape as an unhandled rejection.
    const log = this.#log();
    try {
      this.#observer?.onTransition(change);
      if (log) logTransition(log, change);
    } catch {}
    if (this.#listeners) {
      for (const listener of this.#listeners) {
        try {
          listener(change);
        } catch (error) {
          try {
            log?.error({ err: error }, 'state-change listener threw');
          } catch {}
        }
      }
    }
  }

  /** The per-circuit child logger, made on first use so idle breakers stay small. */
  #log(): Logger | undefined {
    if (this.#logger === undefined && this.#baseLogger !== undefined) {
      this.#logger = this.#baseLogger.child({ circuit: this.name });
      this.#baseLogger = undefined;
    }
    return this.#logger;
  }
}

function classifyAllAsFailure(): Classification {
  return 'failure';
}

function toOk<T>(value: T): Outcome<T> {
  return { ok: true, value };
}
