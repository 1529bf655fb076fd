import type { Classification } from '@gl-vcci/breaker-core';

// The failure table of PostgreSQL through pg 8.23 / pg-pool 3.14, measured on this machine
// (../shared/notes/sdk-failure-semantics.md §5.4). The README prints the same table: change both.

/** Node.js transport errors that mean the server cannot be reached or the connection died. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * pg's and pg-pool's own errors carry no code, only these messages. "Connection terminated"
 * covers "... unexpectedly" and "... due to connection timeout".
 */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

/** SQLSTATEs of a server that is going away, starting, or cannot serve this connection. */
const UNAVAILABLE_SQLSTATES: ReadonlySet<string> = new Set([
  '57P01', // admin_shutdown: pg_ctl stop -m fast, pg_terminate_backend
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down, recovering
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
  '08007', // transaction_resolution_unknown: the connection died during COMMIT
]);

/** statement_timeout (or a cancel request): the server is up but slow, see classifyPgError. */
const QUERY_CANCELED = '57014';

/** Errors of this client that pass through the circuit: the caller's or the application's own. */
const OWN_CODES: ReadonlySet<string> = new Set([
  'DB_REQUEST_REJECTED', // the server refused the caller's statement
  'DB_POOL_FULL', // every connection busy: our own saturation, like BulkheadFullError
  'DB_INVALID_ARGUMENT',
  'DB_CLOSED',
  'DB_SESSION_BROKEN',
  'DB_TRANSACTION_ABORTED',
]);

/**
 * Decides what an error from pg means for the `database.postgres` circuit:
 * - `failure`: the database is unreachable, going away or out of resources (counts against it);
 * - `success`: 57014, a statement timeout. The server answered, so it is not down, but the call
 *   was slow: it counts as a slow call (trips on `slow_call_rate`), never as a failure;
 *   Credentials refused (28P01, 28000) are a failure too: the deployment's fault, not the
 *   caller's, and every call would fail alike (the client logs them at error level);
 * - `ignore`: the caller's fault: bad SQL or data (classes 22, 23, 42, 21000, 25xxx, 2BP01),
 *   serialization failures and deadlocks (40001, 40P01: retry the transaction), 08P01 (a wrong
 *   bind-parameter count is a caller bug), and every other error the server answered with; and
 *   the client's own errors, among them DbPoolFullError (every connection busy: the
 *   application's saturation, not the database's failure).
 */
export function classifyPgError(error: unknown): Classification {
  if (typeof error !== 'object' || error === null) return 'ignore';
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  if (typeof code === 'string' && OWN_CODES.has(code)) return 'ignore';
  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined) {
    if (sqlState === QUERY_CANCELED) return 'success';
    if (UNAVAILABLE_SQLSTATES.has(sqlState) || sqlState.startsWith('53')) return 'failure';
    if (isCredentialsRefused(error)) return 'failure';
    return 'ignore';
  }
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'failure';
  // Any other failed system call on the socket (ECONNABORTED, ENETDOWN...) is the network's.
  if (typeof syscall === 'string') return 'failure';
  const message = (error as { message?: unknown }).message;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.startsWith(m))) return 'failure';
  // Left: errors raised in the client before anything was sent, e.g. a parameter that cannot be
  // serialized. The caller's.
  return 'ignore';
}

/**
 * The SQLSTATE of a server error: pg's DatabaseError (and the client's copy of it) has a
 * five-character `code` and a `severity`.
 */
export function sqlStateOf(error: unknown): string | undefined {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && code.length === 5 && typeof severity === 'string' ? code : undefined;
}

/** 28P01 invalid_password, 28000 invalid_authorization_specification (no such role, pg_hba refused). */
export function isCredentialsRefused(error: unknown): boolean {
  const sqlState = sqlStateOf(error);
  return sqlState === '28P01' || sqlState === '28000';
}
