import { describe, expect, it } from 'vitest';
import { CountWindow } from './count.js';

describe('CountWindow', () => {
  it('keeps totals over the last `size` calls only', () => {
    const window = new CountWindow(3);
    window.record(true, true);
    window.record(true, false);
    window.record(false, false);
    expect([window.calls, window.failures, window.slowCalls]).toEqual([3, 2, 1]);
    window.record(false, false); // pushes out the first (failed, slow) call
    expect([window.calls, window.failures, window.slowCalls]).toEqual([3, 1, 0]);
  });

  it('empties on reset and fills again from scratch', () => {
    const window = new CountWindow(2);
    window.record(true, false);
    window.record(true, false);
    window.reset();
    window.record(false, false);
    expect([window.calls, window.failures]).toEqual([1, 0]);
  });
});
