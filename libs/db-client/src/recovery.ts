import type { CircuitBreaker, Clock, Logger } from '@gl-vcci/breaker-core';
import { loggedError } from '@gl-vcci/breaker-core/client';

/**
 * The recovery signal: while a circuit is open, try the database on our own every `intervalMs`
 * (one check at a time), and on the first success call `breaker.allowTrial()`, so callers are let
 * through as soon as the server is back rather than after the whole open duration. Nothing runs
 * while the circuit is in any other state.
 */
export class RecoveryCheck {
  readonly #breaker: CircuitBreaker;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #check: (signal: AbortSignal) => Promise<boolean>;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  readonly #unsubscribe: () => void;
  #timer: unknown;
  #running: Promise<void> | undefined;

  /** `check` resolves true once it reached the server, false when it could not try (no free slot). */
  constructor(options: {
    breaker: CircuitBreaker;
    clock: Clock;
    intervalMs: number;
    check: (signal: AbortSignal) => Promise<boolean>;
    log: Logger;
  }) {
    this.#breaker = options.breaker;
    this.#clock = options.clock;
    this.#intervalMs = options.intervalMs;
    this.#check = options.check;
    this.#log = options.log;
    this.#unsubscribe = this.#breaker.onStateChange((change) => {
      if (change.to === 'open') this.#schedule();
      else this.#cancel();
    });
  }

  /** Stops checking; resolves once a check under way has ended. */
  async close(): Promise<void> {
    this.#unsubscribe();
    this.#cancel();
    this.#stop.abort();
    await this.#running;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#stop.signal.aborted) return;
    this.#timer = this.#clock.setTimeout(this.#fire, this.#intervalMs);
  }

  readonly #fire = () => {
    this.#timer = undefined;
    if (this.#running) return;
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      // Still open (the check failed or could not try): again after another interval.
      if (!this.#stop.signal.aborted && this.#breaker.state === 'open') this.#schedule();
    });
  };

  #cancel(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #run(): Promise<void> {
    if (this.#breaker.state !== 'open') return;
    try {
      if ((await this.#check(this.#stop.signal)) && this.#breaker.allowTrial()) {
        this.#log.info('the database answers again: the circuit lets trial calls through');
      }
    } catch (error) {
      this.#log.debug({ error: loggedError(error) }, 'recovery check failed: the database is still unavailable');
    }
  }
}
