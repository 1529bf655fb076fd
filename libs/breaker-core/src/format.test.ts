import { describe, expect, it } from 'vitest';
import { TimeoutError } from './errors.js';
import { formatMs } from './format.js';
import { TimeoutPolicy } from './policies/timeout.js';
import { ManualClock } from './testing.js';

describe('formatMs', () => {
  it('prints a duration as whole milliseconds', () => {
    expect(formatMs(59_996.474365234375)).toBe('59996 ms');
    expect(formatMs(1_004.9999999999999)).toBe('1005 ms');
    expect(formatMs(60_000)).toBe('60000 ms');
    expect(formatMs(0)).toBe('0 ms');
  });

  it('never prints a positive duration as 0', () => {
    expect(formatMs(0.4)).toBe('<1 ms');
  });

  it('prints what is not a finite number as it is', () => {
    expect(formatMs(Number.POSITIVE_INFINITY)).toBe('Infinity ms');
    expect(formatMs(Number.NaN)).toBe('NaN ms');
  });
});

describe('durations in messages', () => {
  it('TimeoutError says its deadline in whole milliseconds', () => {
    expect(new TimeoutError('svc', 1_004.9999999999999).message).toBe('Call through "svc" timed out after 1005 ms');
    expect(new TimeoutError(undefined, 2.5).message).toBe('Call timed out after 3 ms');
  });

  it('TimeoutPolicy rejects with a whole-millisecond message for a fractional deadline', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 1_500.25, clock });
    const call = policy.execute(() => new Promise(() => {}));
    clock.advance(1_500.25);
    await expect(call).rejects.toThrow(/^Call timed out after 1500 ms$/);
  });
});
