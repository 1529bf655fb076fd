import type { SlidingWindowConfig } from '../options.js';
import { CountWindow } from './count.js';
import { TimeWindow } from './time.js';

/**
 * The calls a breaker judges: totals kept current on every record, so reading them is free.
 * Implementations are swapped by config and hold no timers.
 */
export interface SlidingWindow {
  readonly calls: number;
  readonly failures: number;
  readonly slowCalls: number;
  /** Whether `record` and `refresh` need the clock (a count window does not). */
  readonly needsTime: boolean;
  record(failed: boolean, slow: boolean, now: number): void;
  /** Drops what has aged out by `now`. */
  refresh(now: number): void;
  reset(): void;
}

export function createWindow(config: SlidingWindowConfig): SlidingWindow {
  return config.kind === 'count' ? new CountWindow(config.size) : new TimeWindow(config.seconds);
}
