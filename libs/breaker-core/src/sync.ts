import type { CircuitBreaker } from './breaker.js';

/**
 * Shares circuit state between the replicas of one service, so that they do not each have to
 * find an outage on their own. Only transitions travel, never calls: the hot path (a call on a
 * closed circuit) does no I/O and never consults the sync.
 *
 * A breaker given a sync (`new BreakerRegistry({ sync })`, or `runtime.sync` of a breaker made
 * alone) calls `attach` once, from its constructor. The sync then follows the breaker's own
 * transitions (`onStateChange`) to publish them, and applies the other replicas' with
 * `breaker.adoptOpen(ms)` and `breaker.adoptClose()`, whose transitions carry the reasons
 * `peer_open` and `peer_close` (a sync must not publish those again).
 *
 * When an open circuit's open period has run out, the breaker asks `probeDelay` before it turns
 * half-open: 0 lets this replica send the trial calls; a positive number keeps the circuit open
 * that many milliseconds more (another replica is probing), and the refusals carry it as
 * `retryAfterMs`. `probeDelay` runs inside a call, so it must answer from what it knows now
 * (start any I/O in the background); a sync that cannot reach its store answers 0, and each
 * replica goes on alone. A throw counts as 0.
 *
 * `@gl-vcci/breaker-sync-redis` implements it on Redis.
 */
export interface StateSync {
  /** Follow this breaker's transitions and apply the other replicas' to it. */
  attach(breaker: CircuitBreaker): void;
  /** 0: probe here now; > 0: stay open that many ms more. Never called on a closed circuit. */
  probeDelay(breaker: CircuitBreaker, now: number): number;
}
