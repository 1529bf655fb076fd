import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './retry-after.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  it('reads delay-seconds', () => expect(parseRetryAfter('120', now, 600_000)).toBe(120_000));
  it('reads fractional delay-seconds', () => expect(parseRetryAfter('1.5', now, 600_000)).toBe(1_500));
  it('reads an HTTP date against the wall clock given', () =>
    expect(parseRetryAfter('Thu, 26 Nov 2026 12:01:30 GMT', now, 600_000)).toBe(90_000));
  it('caps long waits', () => expect(parseRetryAfter('86400', now, 600_000)).toBe(600_000));
  it('gives 0 for a date in the past', () =>
    expect(parseRetryAfter('Thu, 26 Nov 2026 11:00:00 GMT', now, 600_000)).toBe(0));
  it.each([undefined, '', '  ', 'soon', '-5', 42])('gives undefined for %j, which is not a Retry-After', (header) =>
    expect(parseRetryAfter(header, now, 600_000)).toBeUndefined(),
  );
});
