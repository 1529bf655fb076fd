import type { Clock } from '@gl-vcci/breaker-core';
import { DbClosedError, DbPoolFullError } from './errors.js';

/** Gives the slot back; idempotent. */
export type ReleaseSlot = () => void;

interface Waiter {
  grant: (release: ReleaseSlot) => void;
  fail: (error: unknown) => void;
}

/**
 * The pool's connection slots, counted here rather than in pg-pool so that waiting for one is
 * bounded and told apart from the database's failures: pg-pool's own queue is unbounded and its
 * wait timeout reads exactly like a connection timeout. Holding a slot, pg-pool always has room,
 * so its queue stays empty. At most `maxWaiting` callers wait, each at most `waitMs` (on the
 * registry's clock); the rest are refused at once with DbPoolFullError.
 */
export class PoolSlots {
  readonly #size: number;
  readonly #maxWaiting: number;
  readonly #waitMs: number;
  readonly #clock: Clock;
  readonly #role: 'primary' | 'replica';
  readonly #waiters: Waiter[] = [];
  #held = 0;
  #closed = false;

  constructor(options: {
    size: number;
    maxWaiting: number;
    waitMs: number;
    clock: Clock;
    role: 'primary' | 'replica';
  }) {
    this.#size = options.size;
    this.#maxWaiting = options.maxWaiting;
    this.#waitMs = options.waitMs;
    this.#clock = options.clock;
    this.#role = options.role;
  }

  /** Callers waiting for a slot (the `waiting` series of the pool gauge). */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** A slot now, or undefined when all are held (for background work that must not queue). */
  tryTake(): ReleaseSlot | undefined {
    if (this.#closed || this.#held >= this.#size) return undefined;
    return this.#grant();
  }

  /** A slot, once one is free; rejects with DbPoolFullError, DbClosedError or the signal's reason. */
  take(signal?: AbortSignal): Promise<ReleaseSlot> {
    if (this.#closed) return Promise.reject(new DbClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.tryTake();
    if (now) return Promise.resolve(now);
    if (this.#waiters.length >= this.#maxWaiting) return Promise.reject(new DbPoolFullError(this.#role, 0));
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const leave = () => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: (release) => {
          leave();
          resolve(release);
        },
        fail: (error) => {
          leave();
          reject(error);
        },
      };
      const onAbort = () => waiter.fail(signal?.reason);
      const timer = this.#clock.setTimeout(
        () => waiter.fail(new DbPoolFullError(this.#role, this.#waitMs)),
        this.#waitMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Refuses every waiter and every later caller with DbClosedError; held slots stay held until released. */
  close(): void {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.fail(new DbClosedError());
  }

  #grant(): ReleaseSlot {
    this.#held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held--;
      const next = this.#waiters[0];
      if (next && !this.#closed) next.grant(this.#grant());
    };
  }
}
