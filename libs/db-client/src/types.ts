import type { BreakerConfig, BreakerRegistry, Logger, ValueSource } from '@gl-vcci/breaker-core';
import type { ClientStatus } from '@gl-vcci/breaker-core/client';
import type { PoolConfig, QueryResult, QueryResultRow } from 'pg';

/**
 * pg Pool settings (unknown keys are refused). The client fills in the ones that keep it from
 * hanging when the caller leaves them out: `connectionTimeoutMillis` (2 000), `statement_timeout`
 * (3 000), `query_timeout` (`statement_timeout` + 500) and `max` (`connection_pool_size`, else 10).
 */
export type DbPoolConfig = Pick<
  PoolConfig,
  | 'max'
  | 'min'
  | 'connectionTimeoutMillis'
  | 'statement_timeout'
  | 'query_timeout'
  | 'lock_timeout'
  | 'idle_in_transaction_session_timeout'
  | 'idleTimeoutMillis'
  | 'maxUses'
  | 'maxLifetimeSeconds'
  | 'allowExitOnIdle'
  | 'keepAlive'
  | 'keepAliveInitialDelayMillis'
  | 'host'
  | 'port'
  | 'database'
  | 'user'
  | 'password'
  | 'ssl'
  | 'enableChannelBinding'
  | 'application_name'
  | 'fallback_application_name'
  | 'options'
  | 'client_encoding'
  | 'types'
> & {
  /**
   * Most callers that wait for a connection when all `max` are busy (default 100); more are
   * refused at once with DbPoolFullError. A waiter gives up after `connectionTimeoutMillis`.
   */
  maxWaiting?: number;
};

/** Where a connection goes: a URL, pool settings, or both (the URL then wins for what it sets). */
export interface DbConnectionOptions {
  connectionString?: string;
  pool?: DbPoolConfig;
}

export interface DbClientOptions extends DbConnectionOptions {
  /** breaker-core's registry: the circuit `database.postgres`, its config, metrics, logger and clock. */
  registry: BreakerRegistry;
  /** Parent of the client's child logger (default `registry.logger`). */
  logger?: Logger;
  /** A read replica that serves queries marked `readOnly` while the primary is failing or its circuit is open; its own circuit `database.postgres_replica`. */
  replica?: DbConnectionOptions;
  /**
   * Half-open trials run this synthetic statement instead of the caller's query: `true` for
   * `SELECT 1`, or the SQL to run. Default `false`: the first callers' queries are the trials.
   */
  probe?: boolean | string;
  /**
   * While the circuit is open, how often (ms, on the registry's clock) the client tries one
   * connection and the probe's SQL (`SELECT 1` without a probe) on its own; when it succeeds the
   * circuit lets trial calls through at once instead of waiting out its open duration. Default
   * 1 000; `false` waits out the open duration.
   */
  recoveryCheckMs?: number | false;
  /**
   * Breaker settings over circuit_breaker_config.yaml's, e.g. `{ callTimeoutMs: 4_000 }`
   * (`name` and `classify` are the client's). A second client on the same registry shares the
   * circuit only with the same settings.
   */
  breaker?: Partial<Omit<BreakerConfig, 'name' | 'classify'>>;
}

/** Where a result came from: the primary (`live`) or the read replica (`failover`). */
export type DbSource = Extract<ValueSource, 'live' | 'failover'>;

/**
 * pg's QueryResult (rows, rowCount, fields, command, oid) and where it came from, in the same
 * `source` words as every GL-VCCI client result.
 */
export interface DbResult<R extends QueryResultRow = QueryResultRow> extends QueryResult<R> {
  source: DbSource;
}

export interface QueryOptions {
  /** Gives up on the call: it rejects with the signal's reason at once, the server is told to cancel the statement. */
  signal?: AbortSignal;
  /** A shorter server-side statement timeout for this query only (ms, at most the pool's `statement_timeout`). */
  timeoutMs?: number;
  /** Label of the query in `greenlang_db_query_duration_seconds` (never the SQL; default "unnamed"). */
  name?: string;
  /** The query only reads: it may be served by the replica while the primary is unavailable. */
  readOnly?: boolean;
}

/** Options of a query inside `transaction` or `withClient`: no failover, no per-query timeout. */
export interface SessionQueryOptions {
  signal?: AbortSignal;
  name?: string;
}

/** One pooled connection, held for the length of a `transaction` or `withClient` callback. */
export interface DbSession {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    params?: readonly unknown[],
    options?: SessionQueryOptions,
  ): Promise<DbResult<R>>;
}

export interface TransactionOptions {
  /** Aborts taking the connection, BEGIN and COMMIT (each query takes its own signal). */
  signal?: AbortSignal;
}

export interface DbClient {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<DbResult<R>>;
  /** BEGIN, `fn`, COMMIT; ROLLBACK and the error rethrown unchanged when `fn` throws. */
  transaction<T>(fn: (tx: DbSession) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** One connection for several statements (session settings, advisory locks...); released after `fn`. */
  withClient<T>(fn: (session: DbSession) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Refuses new calls (DbClosedError) and waiting callers, ends both pools gracefully, and after
   * `timeoutMs` (default 5 000, on the registry's clock) destroys the connections still open (a
   * hung server, a statement still running). No socket or timer is left once it resolves.
   */
  close(options?: CloseOptions): Promise<void>;
  status(): DbStatus;
}

export interface CloseOptions {
  timeoutMs?: number;
}

/** Connections of one pool: its size (config `connection_pool_size`), open, idle, and callers waiting for one. */
export interface DbPoolStatus {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

export interface DbStatus extends ClientStatus {
  pools: { primary: DbPoolStatus; replica?: DbPoolStatus };
}
