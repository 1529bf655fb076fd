/**
 * Every time decision of the breaker and its policies goes through a Clock, so tests move time
 * instead of sleeping (`ManualClock` in `@gl-vcci/breaker-core/testing`). Times are milliseconds.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// Read once: the performance.timeOrigin getter costs about as much as performance.now() itself.
const ORIGIN = performance.timeOrigin;

/** Monotonic (performance.now) but epoch-based, so times can be shown as dates. */
export const systemClock: Clock = {
  now: () => ORIGIN + performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
