/** Base of the errors this client raises itself (pg's own errors are rethrown unchanged). */
export abstract class DbClientError extends Error {
  abstract readonly code: string;
  override get name(): string {
    return this.constructor.name;
  }
}

export interface DbIssue {
  /** The option or argument at fault, e.g. `pool.connectionTimeoutMillis` or `text`. */
  path: string;
  message: string;
}

/** `createDbClient` was given options it cannot work with; `issues` names every bad field. */
export class DbOptionsError extends DbClientError {
  readonly code = 'DB_INVALID_OPTIONS';
  constructor(
    readonly issues: readonly DbIssue[],
    cause?: unknown,
  ) {
    super(`createDbClient: ${formatIssues(issues)}`, cause === undefined ? undefined : { cause });
  }
}

/** A query call was malformed (empty SQL, bad params or options); nothing reached the pool or the circuit. */
export class DbQueryError extends DbClientError {
  readonly code = 'DB_INVALID_QUERY';
  constructor(readonly issues: readonly DbIssue[]) {
    super(formatIssues(issues));
  }
}

/** The client was closed. */
export class DbClosedError extends DbClientError {
  readonly code = 'DB_CLOSED';
  constructor() {
    super('The database client is closed');
  }
}

/**
 * A read-only query failed on the primary and then on the replica. `cause` is the replica's
 * error, `primaryError` what made it fail over (a CircuitOpenError, a connection error...).
 */
export class DbFailoverError extends DbClientError {
  readonly code = 'DB_FAILOVER_FAILED';
  constructor(
    readonly primaryError: unknown,
    cause: unknown,
  ) {
    super(`The primary failed (${message(primaryError)}) and so did the replica (${message(cause)})`, { cause });
  }
}

/**
 * A statement inside the transaction failed, the callback caught the error and returned normally.
 * PostgreSQL would have answered COMMIT with a silent ROLLBACK; the client rolls back and says so.
 */
export class DbTransactionAbortedError extends DbClientError {
  readonly code = 'DB_TRANSACTION_ABORTED';
  constructor() {
    super('The transaction was rolled back: a statement in it failed and the callback went on to return normally');
  }
}

function formatIssues(issues: readonly DbIssue[]): string {
  return issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What a log line may say about an error: never the error object itself (pg hangs its client, with credentials, on it). */
export function errorFields(error: unknown): { code?: string; error: string } {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return {
    ...(typeof code === 'string' ? { code } : {}),
    error: typeof message === 'string' ? message : String(error),
  };
}
