import { z } from 'zod';
import { type Clock, systemClock } from '../clock.js';
import { CircuitOpenError } from '../errors.js';
import { idleSignal } from '../signals.js';
import { clockSchema, fnSchema, MAX_TIMER_MS, nonNegativeNumber, parseOrThrow, positiveInt } from '../validation.js';

// ratio * calls is a float: 0.29 * 100 is 28.999…, which must still allow 29 retries.
const EPSILON = 1e-9;

export interface RetryBudgetOptions {
  /** Retries may add at most this fraction on top of the calls in the window (default 0.2). */
  ratio?: number;
  /** Retries allowed regardless of traffic, so a quiet service can still retry (default 10). */
  minRetriesPerSecond?: number;
  /** Span over which calls and retries are counted, bucketed per second (default 10 000). */
  windowMs?: number;
  clock?: Clock;
}

const budgetSchema = z
  .object({
    ratio: nonNegativeNumber().optional(),
    minRetriesPerSecond: nonNegativeNumber().optional(),
    windowMs: positiveInt('a positive integer (milliseconds)').optional(),
    clock: clockSchema.optional(),
  })
  .strict();

/**
 * Caps retries across every call sharing it, so that when a dependency fails for everyone the
 * retries cannot multiply the load on it (a retry storm). Share one budget per dependency.
 */
export class RetryBudget {
  readonly ratio: number;
  readonly minRetriesPerSecond: number;
  readonly windowMs: number;
  readonly #clock: Clock;
  readonly #bucketMs: number;
  readonly #reserve: number;
  // One slot per bucket of the ring; a slot whose epoch is not the current one is stale.
  readonly #epochs: number[];
  readonly #calls: number[];
  readonly #retries: number[];

  constructor(options: RetryBudgetOptions = {}) {
    const o = parseOrThrow(budgetSchema, options, 'RetryBudget');
    this.ratio = o.ratio ?? 0.2;
    this.minRetriesPerSecond = o.minRetriesPerSecond ?? 10;
    this.windowMs = o.windowMs ?? 10_000;
    this.#clock = o.clock ?? systemClock;
    const buckets = Math.ceil(this.windowMs / 1000);
    this.#bucketMs = this.windowMs / buckets;
    this.#reserve = (this.minRetriesPerSecond * this.windowMs) / 1000;
    this.#epochs = new Array<number>(buckets).fill(Number.NEGATIVE_INFINITY);
    this.#calls = new Array<number>(buckets).fill(0);
    this.#retries = new Array<number>(buckets).fill(0);
  }

  /** Counts a first attempt. */
  recordCall(): void {
    const i = this.#slot();
    this.#calls[i]!++;
  }

  /** Takes one retry from the budget; false when the window has no retry left. */
  tryAcquireRetry(): boolean {
    const i = this.#slot();
    const oldest = this.#epochs[i]! - this.#epochs.length;
    let calls = 0;
    let retries = 0;
    for (let j = 0; j < this.#epochs.length; j++) {
      if (this.#epochs[j]! <= oldest) continue;
      calls += this.#calls[j]!;
      retries += this.#retries[j]!;
    }
    if (retries + 1 > this.#reserve + this.ratio * calls + EPSILON) return false;
    this.#retries[i]!++;
    return true;
  }

  #slot(): number {
    const epoch = Math.floor(this.#clock.now() / this.#bucketMs);
    const n = this.#epochs.length;
    const i = ((epoch % n) + n) % n;
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch;
      this.#calls[i] = 0;
      this.#retries[i] = 0;
    }
    return i;
  }
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 3; 1 never retries). */
  maxAttempts?: number;
  /** Cap of the first retry's delay; each further retry doubles it (default 100). */
  baseDelayMs?: number;
  /** Cap of any backoff delay (default 10 000); a longer Retry-After still wins. */
  maxDelayMs?: number;
  /** Whether to retry after this error from this attempt (1-based). Default: yes. */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Shared cap on retries; each first attempt counts as a call. */
  budget?: RetryBudget;
  clock?: Clock;
  /** A number in [0, 1) drawn for each delay (default Math.random). */
  random?: () => number;
}

export interface RetryExecuteOptions {
  signal?: AbortSignal;
  /** Absolute clock time (ms) after which no wait may end: the policy gives up instead. */
  deadline?: number;
}

const policySchema = z
  .object({
    maxAttempts: positiveInt().optional(),
    baseDelayMs: nonNegativeNumber().optional(),
    maxDelayMs: nonNegativeNumber().optional(),
    shouldRetry: fnSchema<(error: unknown, attempt: number) => boolean>().optional(),
    budget: z.custom<RetryBudget>((b) => b instanceof RetryBudget, { error: 'expected a RetryBudget' }).optional(),
    clock: clockSchema.optional(),
    random: fnSchema<() => number>().optional(),
  })
  .strict();

/**
 * Retries failed calls with exponential backoff and full jitter. It never retries a rejection by an
 * open circuit (the breaker already said "not now"), never outlives the caller's signal or
 * deadline, and gives up by rethrowing the last error unchanged so callers classify it as usual.
 */
export class RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly #shouldRetry: ((error: unknown, attempt: number) => boolean) | undefined;
  readonly #budget: RetryBudget | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;

  constructor(options: RetryOptions = {}) {
    const o = parseOrThrow(policySchema, options, 'RetryPolicy');
    this.maxAttempts = o.maxAttempts ?? 3;
    this.baseDelayMs = o.baseDelayMs ?? 100;
    this.maxDelayMs = o.maxDelayMs ?? 10_000;
    this.#shouldRetry = o.shouldRetry;
    this.#budget = o.budget;
    this.#clock = o.clock ?? systemClock;
    this.#random = o.random ?? Math.random;
  }

  async execute<T>(
    fn: (signal: AbortSignal, attempt: number) => Promise<T> | T,
    options?: RetryExecuteOptions,
  ): Promise<T> {
    const caller = options?.signal;
    if (caller?.aborted) throw caller.reason;
    const signal = caller ?? idleSignal(fn);
    this.#budget?.recordCall();
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(signal, attempt);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        const delayMs = this.#delayBeforeRetry(error, attempt, options?.deadline);
        if (delayMs === undefined) throw error;
        await sleep(this.#clock, delayMs, caller);
      }
    }
  }

  /** The wait before the next attempt, or undefined to give up. */
  #delayBeforeRetry(error: unknown, attempt: number, deadline: number | undefined): number | undefined {
    if (attempt >= this.maxAttempts || error instanceof CircuitOpenError) return undefined;
    if (this.#shouldRetry && !this.#shouldRetry(error, attempt)) return undefined;
    let delayMs = this.#random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    const retryAfterMs = (error as { retryAfterMs?: unknown } | null | undefined)?.retryAfterMs;
    if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs > delayMs) {
      delayMs = retryAfterMs;
    }
    if (deadline !== undefined && this.#clock.now() + delayMs >= deadline) return undefined;
    // Asked last, so a retry that would not happen anyway does not spend the budget.
    if (this.#budget && !this.#budget.tryAcquireRetry()) return undefined;
    return delayMs;
  }
}

function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  const delay = Math.min(ms, MAX_TIMER_MS);
  return new Promise((resolve, reject) => {
    if (!signal) {
      clock.setTimeout(resolve, delay);
      return;
    }
    // shouldRetry is user code and may have aborted the signal.
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, delay);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
