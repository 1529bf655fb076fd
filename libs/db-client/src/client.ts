import {
  type CircuitBreaker,
  CircuitOpenError,
  type Clock,
  runWithDeadline,
  TimeoutError,
} from '@gl-vcci/breaker-core';
import { Pool, type QueryResult, type QueryResultRow } from 'pg';
import { classifyPgError } from './classify.js';
import { acquire, type Lease, raceAbort, type Statement } from './connection.js';
import {
  DbClosedError,
  DbFailoverError,
  DbQueryError,
  DbSessionBrokenError,
  DbTransactionAbortedError,
  errorFields,
} from './errors.js';
import { DbMetrics, outcomeOf, type QueryOutcome } from './metrics.js';
import {
  CIRCUIT_NAME,
  checkQuery,
  checkSessionOptions,
  QUERY_TIMEOUT_MARGIN_MS,
  type QuerySpec,
  REPLICA_CIRCUIT_NAME,
  type ResolvedOptions,
  resolveOptions,
} from './options.js';
import type {
  DbClient,
  DbClientOptions,
  DbLogger,
  DbResult,
  DbSession,
  DbSource,
  QueryOptions,
  SessionQueryOptions,
  TransactionOptions,
} from './types.js';

/**
 * A pg Pool behind the `database.postgres` circuit: fail-fast pool settings, the caller's own
 * errors passed through without tripping it, read failover to a replica, pool and query metrics.
 * Options are checked here, once; a bad one throws breaker-core's ConfigError naming the field.
 */
export function createDbClient(options: DbClientOptions): DbClient {
  return new PostgresClient(resolveOptions(options));
}

class PostgresClient implements DbClient {
  readonly #breaker: CircuitBreaker;
  readonly #pool: Pool;
  readonly #replica: { pool: Pool; breaker: CircuitBreaker } | undefined;
  readonly #statementTimeoutMs: number;
  readonly #probeSql: string | undefined;
  readonly #metrics: DbMetrics;
  readonly #log: DbLogger;
  readonly #clock: Clock;
  #probing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(o: ResolvedOptions) {
    this.#log = o.logger.child({ client: 'db', circuit: CIRCUIT_NAME });
    // First, before any pool exists: a second client with other breaker settings is refused here.
    this.#breaker = o.registry.breaker(CIRCUIT_NAME, o.breaker);
    this.#clock = o.registry.clock;
    this.#statementTimeoutMs = o.primary.statementTimeoutMs;
    this.#probeSql = o.probe;
    // Its own circuit, on the primary's deadline: a dead replica is shed like a dead primary.
    const replicaBreaker =
      o.replica &&
      o.registry.breaker(REPLICA_CIRCUIT_NAME, { ...o.breaker, callTimeoutMs: this.#breaker.config.callTimeoutMs });
    this.#pool = this.#makePool(o.primary.config, 'primary');
    this.#replica = o.replica &&
      replicaBreaker && { pool: this.#makePool(o.replica.config, 'replica'), breaker: replicaBreaker };
    this.#metrics = new DbMetrics(
      o.registry.metricsRegistry,
      this.#replica ? { primary: this.#pool, replica: this.#replica.pool } : { primary: this.#pool },
    );
  }

  async query<R extends QueryResultRow>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<DbResult<R>> {
    const spec = checkQuery(text, params, options, 'query', this.#statementTimeoutMs);
    this.#ensureOpen();
    const { signal, readOnly } = spec.options;
    const start = this.#clock.now();
    let outcome: QueryOutcome = 'success';
    try {
      try {
        await this.#probeIfHalfOpen(signal);
        const result = await this.#breaker.execute((s) => this.#runOnce<R>(this.#pool, spec, s), { signal });
        return sourced(result, 'live');
      } catch (primaryError) {
        if (!(readOnly && this.#replica && !signal?.aborted && shouldFailOver(primaryError))) throw primaryError;
        outcome = 'failover';
        return await this.#onReplica<R>(this.#replica, spec, primaryError, start);
      }
    } catch (error) {
      outcome = outcomeOf(error, signal);
      throw error;
    } finally {
      this.#observe(spec, outcome, start);
    }
  }

  transaction<T>(fn: (tx: DbSession) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.#session(fn, options, true);
  }

  withClient<T>(fn: (session: DbSession) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.#session(fn, options, false);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#metrics.close();
      await Promise.all([this.#pool.end(), this.#replica?.pool.end()]);
    })();
    return this.#closing;
  }

  #makePool(config: ResolvedOptions['primary']['config'], role: 'primary' | 'replica'): Pool {
    const pool = new Pool(config);
    // Without this listener an idle connection whose backend dies crashes the process.
    pool.on('error', (error) => {
      this.#metrics?.connectionError('idle');
      this.#log.warn({ pool: role, ...errorFields(error) }, 'idle database connection failed and was dropped');
    });
    return pool;
  }

  readonly #onHeldError = (error: Error) => {
    this.#metrics.connectionError('held');
    this.#log.warn(errorFields(error), 'held database connection failed');
  };

  async #runOnce<R extends QueryResultRow>(pool: Pool, spec: QuerySpec, signal: AbortSignal): Promise<QueryResult<R>> {
    const lease = await acquire(pool, signal, this.#onHeldError);
    try {
      const { timeoutMs } = spec.options;
      if (timeoutMs === undefined) return await lease.run<R>(statement(spec), signal);
      // A shorter statement_timeout for this statement only: the server stops it, not just us.
      await lease.run({ text: `SET statement_timeout = ${timeoutMs}` }, signal);
      try {
        return await lease.run<R>({ ...statement(spec), query_timeout: timeoutMs + QUERY_TIMEOUT_MARGIN_MS }, signal);
      } finally {
        if (!lease.broken) await lease.run({ text: 'RESET statement_timeout' }).catch((error) => lease.spoil(error));
      }
    } finally {
      lease.release();
    }
  }

  /**
   * On the replica's own circuit (so a dead replica is shed too), and within what is left of the
   * caller's deadline (the primary circuit's callTimeoutMs, counted from the start of the call).
   */
  async #onReplica<R extends QueryResultRow>(
    replica: { pool: Pool; breaker: CircuitBreaker },
    spec: QuerySpec,
    primaryError: unknown,
    start: number,
  ) {
    this.#log.debug(errorFields(primaryError), 'read-only query failing over to the replica');
    const { signal } = spec.options;
    const deadline = this.#breaker.config.callTimeoutMs;
    const timeoutMs = deadline === undefined ? undefined : Math.max(0, start + deadline - this.#clock.now());
    try {
      const result = await runWithDeadline(
        (s) => replica.breaker.execute((r) => this.#runOnce<R>(replica.pool, spec, r), { signal: s }),
        { timeoutMs, signal, clock: this.#clock, circuitName: REPLICA_CIRCUIT_NAME },
      );
      return sourced(result, 'failover');
    } catch (replicaError) {
      // The caller's own mistake (bad SQL) is theirs whichever server said so; an abort is an abort.
      if (signal?.aborted || !shouldFailOver(replicaError)) throw replicaError;
      throw new DbFailoverError(primaryError, replicaError);
    }
  }

  /** With a probe configured, half-open trials are the probe: callers wait for it, then run through the closed circuit. */
  async #probeIfHalfOpen(signal: AbortSignal | undefined): Promise<void> {
    const sql = this.#probeSql;
    if (sql === undefined) return;
    const breaker = this.#breaker;
    for (let i = 0; i < breaker.config.successThreshold && breaker.state === 'half_open'; i++) {
      if (!this.#probing) {
        const spec: QuerySpec = { text: sql, values: undefined, options: {} };
        const probe = breaker
          .execute((s) => this.#runOnce(this.#pool, spec, s))
          .then(
            () => {},
            (error: unknown) => this.#log.info(errorFields(error), 'half-open probe failed'),
          );
        this.#probing = probe;
        void probe.then(() => {
          if (this.#probing === probe) this.#probing = undefined;
        });
      }
      await raceAbort(this.#probing!, signal);
    }
  }

  async #session<T>(
    fn: (session: DbSession) => Promise<T>,
    options: TransactionOptions | undefined,
    transactional: boolean,
  ): Promise<T> {
    if (typeof fn !== 'function') {
      throw new DbQueryError([{ path: 'fn', message: `expected a function, got ${typeof fn}` }]);
    }
    const { signal } = checkSessionOptions(options);
    this.#ensureOpen();
    await this.#probeIfHalfOpen(signal);
    const lease = await this.#breaker.execute(
      async (s) => {
        const held = await acquire(this.#pool, s, this.#onHeldError);
        try {
          if (transactional) await held.run({ text: 'BEGIN' }, s);
          // The circuit may have given up on this call (deadline, abort): nobody would release it.
          if (s.aborted) throw s.reason;
        } catch (error) {
          held.release();
          throw error;
        }
        return held;
      },
      { signal },
    );
    const session: DbSession = {
      query: <R extends QueryResultRow>(text: string, params?: readonly unknown[], opts?: SessionQueryOptions) =>
        this.#sessionQuery<R>(lease, text, params, opts),
    };
    let value: T;
    try {
      value = await fn(session);
    } catch (error) {
      if (transactional) await this.#rollback(lease);
      lease.release();
      throw error;
    }
    try {
      if (transactional) await this.#commit(lease);
    } finally {
      lease.release();
    }
    return value;
  }

  async #sessionQuery<R extends QueryResultRow>(
    lease: Lease,
    text: string,
    params: readonly unknown[] | undefined,
    options: SessionQueryOptions | undefined,
  ): Promise<DbResult<R>> {
    const spec = checkQuery(text, params, options, 'session', this.#statementTimeoutMs);
    if (lease.released) {
      throw new DbQueryError([
        { path: 'session', message: 'expected a query inside its callback, which has returned' },
      ]);
    }
    // An earlier statement was abandoned (its reply would come out of turn) or lost the connection.
    if (lease.broken !== undefined) throw new DbSessionBrokenError(lease.broken);
    const { signal } = spec.options;
    const start = this.#clock.now();
    let outcome: QueryOutcome = 'success';
    try {
      return sourced(await this.#breaker.execute((s) => lease.run<R>(statement(spec), s), { signal }), 'live');
    } catch (error) {
      outcome = outcomeOf(error, signal);
      throw error;
    } finally {
      this.#observe(spec, outcome, start);
    }
  }

  /**
   * Like ROLLBACK, outside the circuit's admission: the callback's work is done, an open circuit
   * must not turn it into a rollback. Bounded by the pool's query_timeout. Never sent on a broken
   * connection (an abandoned statement might still commit): that one is destroyed, which rolls back.
   */
  async #commit(lease: Lease): Promise<void> {
    if (lease.broken !== undefined) throw new DbTransactionAbortedError(lease.broken);
    let result: QueryResult;
    try {
      result = await lease.run({ text: 'COMMIT' });
    } catch (error) {
      // Not counted by the circuit (it did not admit the call): logged, so an outage still shows.
      if (classifyPgError(error) === 'failure') {
        this.#log.warn(errorFields(error), 'COMMIT failed with an availability error; the outcome is unknown');
      }
      throw error;
    }
    // PostgreSQL answers COMMIT of a failed transaction with a ROLLBACK, not an error: say so.
    if (result.command === 'ROLLBACK') throw new DbTransactionAbortedError();
  }

  /** Outside the circuit: cleanup must run even when it is open. A connection that cannot roll back is destroyed, which rolls back. */
  async #rollback(lease: Lease): Promise<void> {
    if (lease.broken || lease.released) return;
    try {
      await lease.run({ text: 'ROLLBACK' });
    } catch (error) {
      lease.spoil(error);
      this.#log.warn(errorFields(error), 'ROLLBACK failed; the connection is destroyed instead');
    }
  }

  #observe(spec: QuerySpec, outcome: QueryOutcome, start: number): void {
    this.#metrics.observeQuery(spec.options.name ?? 'unnamed', outcome, (this.#clock.now() - start) / 1000);
  }

  #ensureOpen(): void {
    if (this.#closing) throw new DbClosedError();
  }
}

function statement(spec: QuerySpec): Statement {
  // The caller's `name` is a metric label only: given to pg it would name a prepared statement.
  return { text: spec.text, values: spec.values };
}

function sourced<R extends QueryResultRow>(result: QueryResult<R>, source: DbSource): DbResult<R> {
  // Several statements in one text (allowed without params) give one result each: keep the last.
  const r = Array.isArray(result) ? (result.at(-1) as QueryResult<R>) : result;
  return { command: r.command, rowCount: r.rowCount, oid: r.oid, fields: r.fields, rows: r.rows, source };
}

function shouldFailOver(error: unknown): boolean {
  return error instanceof CircuitOpenError || error instanceof TimeoutError || classifyPgError(error) === 'failure';
}
