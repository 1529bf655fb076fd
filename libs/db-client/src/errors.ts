import { BreakerCoreError, errorMessage, type FallbackExhaustedError, type Issue } from '@gl-vcci/breaker-core';
import { type CallOutcome, codeGuard, formatIssues } from '@gl-vcci/breaker-core/client';

/**
 * Base of the errors this client raises: a stable `code` to branch on (guards check it, not
 * instanceof), and as `cause` only copies of pg's errors that hold no connection parameters.
 * Invalid options are breaker-core's ConfigError.
 */
export abstract class DbError extends BreakerCoreError {}

/** A call was malformed (empty SQL, bad params or options); nothing reached the pool or the circuit. */
export class DbArgumentError extends DbError {
  readonly code = 'DB_INVALID_ARGUMENT';
  readonly outcome: CallOutcome = 'not_sent';
  constructor(readonly issues: readonly Issue[]) {
    super(formatIssues(issues));
  }
}

/** What pg's server error said, without the error itself. */
export interface PgErrorFields {
  /** The SQLSTATE (`23505` unique_violation, `42601` syntax_error, …): what callers branch on. */
  sqlState: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

/**
 * The server refused the statement as the caller's mistake (syntax error, unique violation,
 * division by zero, a serialization failure to retry…): never counted by the circuit, never
 * failed over. `sqlState` is PostgreSQL's code.
 */
export class DbRequestError extends DbError {
  readonly code = 'DB_REQUEST_REJECTED';
  readonly sqlState: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly constraint?: string;
  readonly table?: string;
  readonly column?: string;
  constructor(message: string, fields: PgErrorFields) {
    super(message);
    this.sqlState = fields.sqlState;
    for (const key of ['detail', 'hint', 'constraint', 'table', 'column'] as const) {
      if (fields[key] !== undefined) this[key] = fields[key];
    }
  }
}

/**
 * A query could not be served: the primary (and, for a read-only query with a replica, the replica
 * too) refused it (open circuit), ran out of time or was unreachable. `cause` is breaker-core's
 * FallbackExhaustedError listing each server and its error (CircuitOpenError, TimeoutError, a
 * detached copy of pg's error).
 */
export class DbUnavailableError extends DbError {
  readonly code = 'DB_UNAVAILABLE';
  constructor(
    cause: FallbackExhaustedError,
    /** `unknown` when the statement reached a server whose answer never came: it may have run. */
    readonly outcome: CallOutcome = 'not_sent',
  ) {
    super(
      `The database is unavailable${outcome === 'unknown' ? ' (the statement was sent: its outcome is unknown)' : ''}: ${cause.message}`,
      { cause },
    );
  }
}

/** The client was closed. */
export class DbClosedError extends DbError {
  readonly code = 'DB_CLOSED';
  /** `unknown` for a statement close() cut after it was sent. */
  constructor(readonly outcome: CallOutcome = 'not_sent') {
    super(
      outcome === 'unknown'
        ? 'The database client was closed while the statement ran: its outcome is unknown'
        : 'The database client is closed',
    );
  }
}

/**
 * Every connection of the pool was busy and the caller could not have one: too many callers
 * already waited (`pool.maxWaiting`, refused at once, `waitedMs` 0), or none came free within
 * `connectionTimeoutMillis`. The application's own saturation, not the database's failure: the
 * circuit does not count it.
 */
export class DbPoolFullError extends DbError {
  readonly code = 'DB_POOL_FULL';
  /** Nothing was sent: no connection was had. */
  readonly outcome: CallOutcome = 'not_sent';
  constructor(
    readonly pool: 'primary' | 'replica',
    readonly waitedMs: number,
  ) {
    super(
      waitedMs === 0
        ? `The ${pool} pool is full and too many callers already wait for a connection`
        : `No connection of the ${pool} pool came free within ${waitedMs} ms`,
    );
  }
}

/**
 * The transaction was rolled back instead of committed: a statement inside it failed and the
 * callback caught the error and returned normally (PostgreSQL would have answered COMMIT with a
 * silent ROLLBACK), or a statement was abandoned (caller abort, circuit deadline) or lost its
 * connection, so the connection was destroyed without COMMIT. `cause`: why, when known.
 */
export class DbTransactionAbortedError extends DbError {
  readonly code = 'DB_TRANSACTION_ABORTED';
  constructor(cause?: unknown) {
    super(
      cause === undefined
        ? 'The transaction was rolled back: a statement in it failed and the callback went on to return normally'
        : `The transaction was rolled back without COMMIT: a statement in it was abandoned or lost its connection (${errorMessage(cause)})`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * A query of a `transaction` or `withClient` session after an earlier statement of that session
 * was abandoned (caller abort, circuit deadline) or lost its connection: the connection is no longer
 * usable, nothing was sent. `cause`: what broke it.
 */
export class DbSessionBrokenError extends DbError {
  readonly code = 'DB_SESSION_BROKEN';
  constructor(cause: unknown) {
    super(
      `The session's connection is unusable: an earlier statement was abandoned or failed (${errorMessage(cause)})`,
      { cause },
    );
  }
}

// Guards by `code`: they hold with two copies of this package in one application.
export const isDbArgumentError = codeGuard<DbArgumentError>('DB_INVALID_ARGUMENT');
export const isDbRequestError = codeGuard<DbRequestError>('DB_REQUEST_REJECTED');
export const isDbUnavailableError = codeGuard<DbUnavailableError>('DB_UNAVAILABLE');
export const isDbClosedError = codeGuard<DbClosedError>('DB_CLOSED');
export const isDbPoolFullError = codeGuard<DbPoolFullError>('DB_POOL_FULL');
export const isDbTransactionAbortedError = codeGuard<DbTransactionAbortedError>('DB_TRANSACTION_ABORTED');
export const isDbSessionBrokenError = codeGuard<DbSessionBrokenError>('DB_SESSION_BROKEN');
/** Any error this client raised itself. */
export const isDbError = codeGuard<DbError>(
  'DB_INVALID_ARGUMENT',
  'DB_REQUEST_REJECTED',
  'DB_UNAVAILABLE',
  'DB_CLOSED',
  'DB_POOL_FULL',
  'DB_TRANSACTION_ABORTED',
  'DB_SESSION_BROKEN',
);
