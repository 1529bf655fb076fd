import { z } from 'zod';
import { type Clock, systemClock } from '../clock.js';
import { BulkheadFullError } from '../errors.js';
import { idleSignal } from '../signals.js';
import { clockSchema, MAX_TIMER_MS, nonNegativeInt, parseOrThrow, positiveInt, positiveNumber } from '../validation.js';

export interface BulkheadOptions {
  /** Calls allowed to run at once. */
  maxConcurrent: number;
  /** Callers allowed to wait for a slot, first come first served (default 0: reject at once). */
  maxQueue?: number;
  /** Longest wait in the queue before rejecting with BulkheadFullError (default: no limit). */
  queueTimeoutMs?: number;
  clock?: Clock;
}

const schema = z
  .object({
    maxConcurrent: positiveInt(),
    maxQueue: nonNegativeInt().optional(),
    queueTimeoutMs: positiveNumber()
      .max(MAX_TIMER_MS, { error: `expected at most ${MAX_TIMER_MS} ms` })
      .optional(),
    clock: clockSchema.optional(),
  })
  .strict();

interface Waiter {
  grant(): void;
}

/**
 * Limits how many calls run at once so a slow dependency cannot hold every connection or socket;
 * callers beyond the limit wait in a bounded FIFO queue, and beyond that are rejected at once.
 */
export class Bulkhead {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number | undefined;
  readonly #clock: Clock;
  #running = 0;
  // A Set keeps insertion order and removes an aborted waiter in O(1).
  readonly #queue = new Set<Waiter>();

  constructor(options: BulkheadOptions) {
    const o = parseOrThrow(schema, options, 'Bulkhead');
    this.maxConcurrent = o.maxConcurrent;
    this.maxQueue = o.maxQueue ?? 0;
    this.queueTimeoutMs = o.queueTimeoutMs;
    this.#clock = o.clock ?? systemClock;
  }

  /** Calls holding a slot. */
  get running(): number {
    return this.#running;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.#queue.size;
  }

  execute<T>(fn: (signal: AbortSignal) => Promise<T> | T, options?: { signal?: AbortSignal }): Promise<T> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#running < this.maxConcurrent) {
      this.#running++;
      return this.#run(fn, signal);
    }
    if (this.#queue.size >= this.maxQueue) return Promise.reject(this.#full());
    return this.#wait(signal).then(() => this.#run(fn, signal));
  }

  /** Runs fn in a slot already taken, and gives the slot up however fn ends. */
  async #run<T>(fn: (signal: AbortSignal) => Promise<T> | T, signal: AbortSignal | undefined): Promise<T> {
    try {
      // A queued caller may have aborted between being granted its slot and getting here.
      if (signal?.aborted) throw signal.reason;
      return await fn(signal ?? idleSignal(fn));
    } finally {
      this.#release();
    }
  }

  #release(): void {
    const next = this.#queue.values().next();
    if (next.done) {
      this.#running--;
      return;
    }
    // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
    this.#queue.delete(next.value);
    next.value.grant();
  }

  #wait(signal: AbortSignal | undefined): Promise<void> {
    const clock = this.#clock;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          if (timer !== undefined) clock.clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const leave = (error: unknown) => {
        this.#queue.delete(waiter);
        if (timer !== undefined) clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = () => leave(signal!.reason);
      const timer =
        this.queueTimeoutMs === undefined
          ? undefined
          : clock.setTimeout(() => leave(this.#full()), this.queueTimeoutMs);
      signal?.addEventListener('abort', onAbort);
      this.#queue.add(waiter);
    });
  }

  #full(): BulkheadFullError {
    return new BulkheadFullError(this.maxConcurrent, this.maxQueue);
  }
}
