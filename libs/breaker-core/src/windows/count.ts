import type { SlidingWindow } from './window.js';

const FAILED = 1;
const SLOW = 2;

/** The last `size` calls, as a ring of one byte each (bit 0 failed, bit 1 slow). */
export class CountWindow implements SlidingWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  readonly needsTime = false;
  readonly #ring: Uint8Array;
  #next = 0;

  constructor(size: number) {
    this.#ring = new Uint8Array(size);
  }

  record(failed: boolean, slow: boolean): void {
    const ring = this.#ring;
    const i = this.#next;
    if (this.calls === ring.length) {
      const old = ring[i]!;
      this.failures -= old & FAILED;
      this.slowCalls -= (old & SLOW) >> 1;
    } else {
      this.calls++;
    }
    ring[i] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slowCalls++;
    this.#next = i + 1 === ring.length ? 0 : i + 1;
  }

  refresh(): void {}

  reset(): void {
    this.calls = 0;
    this.failures = 0;
    this.slowCalls = 0;
    this.#next = 0;
  }
}
