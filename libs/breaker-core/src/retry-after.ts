// Every HTTP client turns Retry-After into the `retryAfterMs` its errors carry to the breaker.

/**
 * Milliseconds from a Retry-After header: delay-seconds (`120`) or an HTTP date, relative to the
 * wall clock `now` (the header is wall-clock time). Capped at `capMs`; undefined when absent or
 * unreadable; 0 for a date in the past.
 */
export function parseRetryAfter(header: unknown, now: number, capMs: number): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else {
    // Date.parse reads "-5" as a year: an HTTP date always names its weekday and month.
    if (!/[A-Za-z]/.test(text)) return undefined;
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, Math.ceil(ms)), capMs);
}
