import { z } from 'zod';
import { type Clock, systemClock } from '../clock.js';
import { TimeoutError } from '../errors.js';
import { idleSignal } from '../signals.js';
import { clockSchema, MAX_TIMER_MS, parseOrThrow, positiveNumber } from '../validation.js';

export interface TimeoutPolicyOptions {
  /** Deadline of each call, in milliseconds from its start. */
  timeoutMs: number;
  clock?: Clock;
}

const schema = z
  .object({
    timeoutMs: positiveNumber().max(MAX_TIMER_MS, { error: `expected at most ${MAX_TIMER_MS} ms` }),
    clock: clockSchema.optional(),
  })
  .strict();

/**
 * Gives each call a deadline: the call's signal aborts with a TimeoutError and the returned promise
 * rejects with it, whether or not the function honours its signal.
 */
export class TimeoutPolicy {
  readonly timeoutMs: number;
  readonly #clock: Clock;

  constructor(options: TimeoutPolicyOptions) {
    const o = parseOrThrow(schema, options, 'TimeoutPolicy');
    this.timeoutMs = o.timeoutMs;
    this.#clock = o.clock ?? systemClock;
  }

  execute<T>(fn: (signal: AbortSignal) => Promise<T> | T, options?: { signal?: AbortSignal }): Promise<T> {
    return runWithDeadline(fn, { timeoutMs: this.timeoutMs, signal: options?.signal, clock: this.#clock });
  }
}

export interface DeadlineOptions {
  /** No deadline when undefined: only the caller's signal can end the call early. */
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
  clock: Clock;
  /** Named in the TimeoutError. */
  circuitName?: string;
  /** Called at the deadline, before the returned promise rejects. */
  onTimeout?: (error: TimeoutError) => void;
}

/**
 * Runs `fn` with a signal that aborts at the deadline (with a TimeoutError) or when the caller's
 * signal aborts (with its reason), and settles at that moment even if `fn` ignores its signal.
 * A `fn` declared without parameters gets the caller's signal (or one that never aborts): no
 * signal of its own is made for a function that cannot listen to it.
 * No timer or listener outlives the call. The one implementation of a deadline: TimeoutPolicy and
 * the circuit breaker both use it.
 */
export function runWithDeadline<T>(fn: (signal: AbortSignal) => Promise<T> | T, options: DeadlineOptions): Promise<T> {
  const { timeoutMs, signal: caller, clock } = options;
  if (caller?.aborted) return Promise.reject(caller.reason);
  // Our own controller only when there is a deadline and fn can listen to it: a signal costs
  // ~2.3 µs to create (a sixth of a local PostgreSQL query through db-client). A function that
  // takes no parameter is still cut off at the deadline, it just is not told.
  const controller = timeoutMs === undefined || fn.length === 0 ? undefined : new AbortController();
  let result: Promise<T> | T;
  try {
    result = fn(controller?.signal ?? caller ?? idleSignal(fn));
  } catch (error) {
    return Promise.reject(error);
  }
  // A synchronous result cannot have outlived the deadline in any way we could act on.
  if (!isThenable(result)) return Promise.resolve(result);
  const pending = result;
  return new Promise<T>((resolve, reject) => {
    let timer: unknown;
    const cleanUp = () => {
      if (timer !== undefined) clock.clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      cleanUp();
      controller?.abort(caller!.reason);
      reject(caller!.reason);
    };
    if (timeoutMs !== undefined) {
      timer = clock.setTimeout(() => {
        timer = undefined;
        caller?.removeEventListener('abort', onAbort);
        const error = new TimeoutError(options.circuitName, timeoutMs);
        options.onTimeout?.(error);
        controller?.abort(error);
        reject(error);
      }, timeoutMs);
    }
    // Watch fn's promise first, so that it is handled even if the caller has already aborted.
    pending.then(
      (value) => {
        cleanUp();
        resolve(value);
      },
      (error: unknown) => {
        cleanUp();
        reject(error);
      },
    );
    if (caller) {
      // fn ran synchronously above and may itself have aborted the caller's signal.
      if (caller.aborted) return onAbort();
      caller.addEventListener('abort', onAbort);
    }
  });
}

function isThenable<T>(value: Promise<T> | T): value is Promise<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function';
}
