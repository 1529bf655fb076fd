import type { Classification } from '@gl-vcci/breaker-core';
import { DisconnectsClientError, ErrorReply } from 'redis';

/**
 * Error replies that mean "this Redis cannot serve now", whoever asks: they count against the
 * circuit like a dropped connection. Every other reply (WRONGTYPE, ERR …, NOSCRIPT,
 * EXECABORT) is about the command the caller sent and is returned to it instead.
 */
const UNAVAILABLE_REPLIES: ReadonlySet<string> = new Set([
  'LOADING', // loading the dataset into memory after a restart
  'MASTERDOWN', // replica lost its master and replica-serve-stale-data is off
  'CLUSTERDOWN', // the cluster cannot serve this slot
  'TRYAGAIN', // multi-key command during resharding: transient, retry later
  'BUSY', // a script or function is running: the server answers nothing else
]);

/**
 * Credentials refused: the deployment's problem, not the caller's (the rule for HTTP 401/403 in
 * every client). They count against the circuit, so the local tier serves what it can, and are
 * logged at error level naming Redis.
 */
const CREDENTIALS_REFUSED_REPLIES: ReadonlySet<string> = new Set([
  'NOAUTH', // the server asks for credentials the URL does not carry (requirepass set or changed)
  'WRONGPASS', // the URL's user and password are refused
  'NOPERM', // the ACL user may not run this command or touch this key
]);

/**
 * Error replies that refuse writes only: reads still work. They do not trip the circuit (that
 * would send every read to the mostly empty local tier while Redis could still answer them);
 * the refused write goes to the local tier instead and its key is reconciled later, like a write
 * made during an outage. They are not the caller's mistake either, so never returned as errors.
 */
const WRITE_REFUSED_REPLIES: ReadonlySet<string> = new Set([
  'READONLY', // a replica, e.g. after a failover left us on the old master
  'OOM', // maxmemory reached: writes refused until memory is freed
  'MISCONF', // RDB snapshots failing: writes refused
  'NOREPLICAS', // min-replicas-to-write not met: writes refused
]);

/** The first word of an error reply: `WRONGTYPE Operation against a key…` → `WRONGTYPE`. */
export function replyPrefix(error: ErrorReply): string {
  const message = error.message;
  const space = message.indexOf(' ');
  return space === -1 ? message : message.slice(0, space);
}

/**
 * The cache client's failure table, given to the `cache.redis` breaker:
 *
 * - `failure`: the connection or the server is unavailable: connection refused or reset,
 *   ConnectionTimeoutError, SocketTimeoutError, SocketClosedUnexpectedlyError, ClientOfflineError,
 *   ClientClosedError, node-redis' own TimeoutError, a full command queue, the replies in
 *   UNAVAILABLE_REPLIES, and credentials refused (NOAUTH, WRONGPASS, NOPERM). Anything unknown is
 *   a failure too. (The breaker's own deadline,
 *   TimeoutError from breaker-core, is always a failure and never reaches this function.)
 * - `ignore`: the caller's command was wrong (any other error reply: WRONGTYPE, ERR …), Redis
 *   refused a write only (WRITE_REFUSED_REPLIES: READONLY, OOM, MISCONF, NOREPLICAS; reads still
 *   work, the client keeps that write locally), or the client itself was closed under the call
 *   (DisconnectsClientError from `close()`).
 * - `success`: nothing.
 */
export function classifyRedisError(error: unknown): Classification {
  if (error instanceof ErrorReply) {
    const prefix = replyPrefix(error);
    return UNAVAILABLE_REPLIES.has(prefix) || CREDENTIALS_REFUSED_REPLIES.has(prefix) ? 'failure' : 'ignore';
  }
  if (error instanceof DisconnectsClientError) return 'ignore';
  return 'failure';
}

/** An error reply caused by the caller's command (WRONGTYPE, ERR …): returned to it, never hidden by a fallback. */
export function isCallerError(error: unknown): error is ErrorReply {
  if (!(error instanceof ErrorReply)) return false;
  const prefix = replyPrefix(error);
  return (
    !UNAVAILABLE_REPLIES.has(prefix) && !WRITE_REFUSED_REPLIES.has(prefix) && !CREDENTIALS_REFUSED_REPLIES.has(prefix)
  );
}

/** Redis refused the URL's credentials, or the ACL user's rights (NOAUTH, WRONGPASS, NOPERM): a failure, logged at error. */
export function isCredentialsRefusal(error: unknown): error is ErrorReply {
  return error instanceof ErrorReply && CREDENTIALS_REFUSED_REPLIES.has(replyPrefix(error));
}

/** A reply refusing writes only (READONLY, OOM, MISCONF, NOREPLICAS): the write is kept locally, the circuit untouched. */
export function isWriteRefusal(error: unknown): error is ErrorReply {
  return error instanceof ErrorReply && WRITE_REFUSED_REPLIES.has(replyPrefix(error));
}
