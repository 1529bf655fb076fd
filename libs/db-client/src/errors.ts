import { BreakerCoreError, errorMessage, formatIssues, type Issue } from '@gl-vcci/breaker-core';

/**
 * Base of the errors this client raises itself at run time: a stable `code` to branch on, the
 * original as `cause`. pg's own errors are rethrown unchanged; invalid options are breaker-core's
 * ConfigError.
 */
export abstract class DbError extends BreakerCoreError {}

/** A query call was malformed (empty SQL, bad params or options); nothing reached the pool or the circuit. */
export class DbQueryError extends DbError {
  readonly code = 'DB_INVALID_QUERY';
  constructor(readonly issues: readonly Issue[]) {
    super(formatIssues(issues));
  }
}

/** The client was closed. */
export class DbClosedError extends DbError {
  readonly code = 'DB_CLOSED';
  constructor() {
    super('The database client is closed');
  }
}

/**
 * A read-only query failed on the primary and then on the replica. `cause` is the replica's
 * error, `primaryError` what made it fail over (a CircuitOpenError, a connection error...).
 */
export class DbFailoverError extends DbError {
  readonly code = 'DB_FAILOVER_FAILED';
  constructor(
    readonly primaryError: unknown,
    cause: unknown,
  ) {
    super(`The primary failed (${errorMessage(primaryError)}) and so did the replica (${errorMessage(cause)})`, {
      cause,
    });
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
      {
        cause,
      },
    );
  }
}

/** What a log line may say about an error: never the error object itself (pg hangs its client, with credentials, on it). */
export function errorFields(error: unknown): { code?: string; error: string } {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return {
    ...(typeof code === 'string' ? { code } : {}),
    error: typeof message === 'string' ? message : String(error),
  };
}
