/**
 * A duration for a message or a log line: whole milliseconds (`59996 ms`, not
 * `59996.474365234375 ms`), since clock times are fractional (performance.now). A positive
 * duration under half a millisecond shows as `<1 ms`, never `0 ms`. Every message of breaker-core
 * that states a duration goes through here (log fields and `retryAfterMs` are whole ms too).
 */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return `${ms} ms`;
  const whole = Math.round(ms);
  return whole === 0 && ms > 0 ? '<1 ms' : `${whole} ms`;
}
