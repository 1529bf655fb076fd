import { describe, expect, it } from 'vitest';
import { TimeWindow } from './time.js';

describe('TimeWindow', () => {
  it('counts the calls of the last `seconds` seconds, bucketed per second', () => {
    const window = new TimeWindow(3);
    window.record(true, false, 0);
    window.record(false, true, 1_500);
    window.record(true, false, 2_999);
    expect([window.calls, window.failures, window.slowCalls]).toEqual([3, 2, 1]);
    window.refresh(3_000); // second 0 leaves the window
    expect([window.calls, window.failures, window.slowCalls]).toEqual([2, 1, 1]);
  });

  it('drops everything after a gap longer than the window', () => {
    const window = new TimeWindow(5);
    for (let t = 0; t < 5_000; t += 250) window.record(true, true, t);
    window.refresh(60_000);
    expect([window.calls, window.failures, window.slowCalls]).toEqual([0, 0, 0]);
    window.record(false, false, 60_001);
    expect(window.calls).toBe(1);
  });

  it('works with clocks that start before the epoch', () => {
    const window = new TimeWindow(3);
    window.record(true, false, -2_500);
    window.record(false, false, -500);
    expect([window.calls, window.failures]).toEqual([2, 1]);
    window.refresh(500); // second -3 leaves the window
    expect([window.calls, window.failures]).toEqual([1, 0]);
  });

  it('recycles buckets without double counting across many laps', () => {
    const window = new TimeWindow(2);
    for (let second = 0; second < 100; second++) window.record(second % 2 === 0, false, second * 1_000);
    expect([window.calls, window.failures]).toEqual([2, 1]);
  });
});
