import type { SlidingWindow } from './window.js';

/**
 * The calls of the last `seconds` seconds, in one bucket per second. Buckets are recycled as
 * time passes, so memory is fixed and no timer is needed.
 */
export class TimeWindow implements SlidingWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  readonly needsTime = true;
  readonly #size: number;
  readonly #calls: Uint32Array;
  readonly #failures: Uint32Array;
  readonly #slow: Uint32Array;
  /** The second (clock ms / 1000, floored) the newest bucket belongs to. */
  #head = Number.NEGATIVE_INFINITY;

  constructor(seconds: number) {
    this.#size = seconds;
    this.#calls = new Uint32Array(seconds);
    this.#failures = new Uint32Array(seconds);
    this.#slow = new Uint32Array(seconds);
  }

  record(failed: boolean, slow: boolean, now: number): void {
    this.refresh(now);
    const i = this.#slot(this.#head);
    this.#calls[i]!++;
    this.calls++;
    if (failed) {
      this.#failures[i]!++;
      this.failures++;
    }
    if (slow) {
      this.#slow[i]!++;
      this.slowCalls++;
    }
  }

  refresh(now: number): void {
    const second = Math.floor(now / 1000);
    if (second <= this.#head) return;
    if (second - this.#head >= this.#size) {
      this.reset();
    } else {
      for (let s = this.#head + 1; s <= second; s++) this.#evict(this.#slot(s));
    }
    this.#head = second;
  }

  reset(): void {
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.#slow.fill(0);
    this.calls = 0;
    this.failures = 0;
    this.slowCalls = 0;
  }

  /** The bucket of a second; clocks may start before the epoch (negative times). */
  #slot(second: number): number {
    return ((second % this.#size) + this.#size) % this.#size;
  }

  #evict(i: number): void {
    this.calls -= this.#calls[i]!;
    this.failures -= this.#failures[i]!;
    this.slowCalls -= this.#slow[i]!;
    this.#calls[i] = 0;
    this.#failures[i] = 0;
    this.#slow[i] = 0;
  }
}
