import {
  type Clock,
  isCircuitOpenError,
  isFallbackExhaustedError,
  isTimeoutError,
  type Logger,
  runWithDeadline,
} from '@gl-vcci/breaker-core';
import {
  closingController,
  durationMs,
  failover,
  loggedError,
  parseOrThrow,
  raceAbort,
  type Upstream,
} from '@gl-vcci/breaker-core/client';
import type { QueryResult, QueryResultRow } from 'pg';
import { z } from 'zod';
import { checkQuery, checkSessionOptions, type QuerySpec } from './arguments.js';
import { classifyPgError } from './classify.js';
import { endPools } from './close.js';
import type { Lease } from './connection.js';
import { DbArgumentError, DbClosedError, DbUnavailableError, isDbClosedError } from './errors.js';
import { DbMetrics, outcomeOf, type QueryOutcome } from './metrics.js';
import {
  CIRCUIT_NAME,
  DEFAULTS,
  QUERY_TIMEOUT_MARGIN_MS,
  REPLICA_CIRCUIT_NAME,
  type ResolvedOptions,
  resolveOptions,
} from './options.js';
import { DbServer } from './server.js';
import { runSession, sourced, statement } from './session.js';
import type {
  CloseOptions,
  DbClient,
  DbClientOptions,
  DbResult,
  DbSession,
  DbStatus,
  QueryOptions,
  TransactionOptions,
} from './types.js';

const closeOptionsSchema = z.strictObject({ timeoutMs: durationMs().optional() }, { error: 'expected { timeoutMs? }' });

/**
 * A pg Pool behind the `database.postgres` circuit: fail-fast pool settings, the caller's own
 * errors passed through without tripping it, read failover to a replica, pool and query metrics.
 * Options are checked here, once; a bad one throws breaker-core's ConfigError naming the field.
 */
export function createDbClient(options: DbClientOptions): DbClient {
  return new PostgresClient(resolveOptions(options));
}

class PostgresClient implements DbClient {
  readonly #primary: DbServer;
  readonly #replica: DbServer | undefined;
  readonly #statementTimeoutMs: number;
  readonly #probeSql: string | undefined;
  readonly #metrics: DbMetrics;
  readonly #log: Logger;
  readonly #clock: Clock;
  #probing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Aborted by close() with DbClosedError: calls in flight end with it, counted against no circuit. */
  readonly #closed = closingController();

  constructor(o: ResolvedOptions) {
    this.#log = o.logger.child({ client: 'db', circuit: CIRCUIT_NAME });
    this.#clock = o.registry.clock;
    this.#statementTimeoutMs = o.primary.statementTimeoutMs;
    this.#probeSql = o.probe;
    const server = (resolved: ResolvedOptions['primary'], circuit: string) =>
      new DbServer(resolved, {
        circuit,
        clock: this.#clock,
        log: this.#log,
        recoveryCheckMs: o.recoveryCheckMs,
        recoverySql: o.recoverySql,
        onConnectionError: (state) => this.#metrics.connectionError(state),
      });
    this.#primary = server(o.primary, CIRCUIT_NAME);
    this.#replica = o.replica && server(o.replica, REPLICA_CIRCUIT_NAME);
    this.#metrics = new DbMetrics(
      o.registry.metricsRegistry,
      this.#replica
        ? { primary: this.#primary.counts, replica: this.#replica.counts }
        : { primary: this.#primary.counts },
    );
  }

  async query<R extends QueryResultRow>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<DbResult<R>> {
    const spec = checkQuery(text, params, options, 'query', this.#statementTimeoutMs);
    this.#ensureOpen();
    const signal = this.#signalFor(spec.options.signal);
    const { readOnly } = spec.options;
    // Whether the primary was sent the statement: then a failure without an answer is `unknown`.
    const sent = { statement: false };
    const start = this.#clock.now();
    let outcome: QueryOutcome = 'success';
    try {
      const replica = readOnly ? this.#replica : undefined;
      const servers: Array<Upstream<QueryResult<R>>> = [
        { name: CIRCUIT_NAME, run: () => this.#onPrimary<R>(spec, signal, sent) },
      ];
      if (replica) {
        servers.push({ name: REPLICA_CIRCUIT_NAME, run: () => this.#onReplica<R>(replica, spec, signal, start) });
      }
      // The caller's own mistake (bad SQL) is theirs whichever server said so; any other way the
      // servers could not answer (open circuit, deadline, lost connection) is DbUnavailableError.
      const { value, source } = await failover(servers, { signal, stopOn: (error) => !shouldFailOver(error) });
      if (source === 'failover') outcome = 'failover';
      return sourced(value, source === 'failover' ? 'failover' : 'live');
    } catch (error) {
      if (!isFallbackExhaustedError(error)) {
        outcome = outcomeOf(error, signal);
        throw isDbClosedError(error) && sent.statement ? new DbClosedError('unknown') : error;
      }
      // One server: the outcome is its own (rejected, timeout, failure); two: both failed.
      outcome = error.errors.length === 1 ? outcomeOf(error.errors[0]!.error, signal) : 'failure';
      const unanswered = sent.statement && !answered(error.errors[0]!.error);
      throw new DbUnavailableError(error, unanswered ? 'unknown' : 'not_sent');
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

  status(): DbStatus {
    const targets = this.#replica ? [this.#primary, this.#replica] : [this.#primary];
    return {
      circuits: Object.fromEntries(targets.map((t) => [t.circuit, t.breaker.state])),
      closed: this.#closing !== undefined,
      pools: this.#replica
        ? { primary: this.#primary.status(), replica: this.#replica.status() }
        : { primary: this.#primary.status() },
    };
  }

  async close(options?: CloseOptions): Promise<void> {
    const { timeoutMs = DEFAULTS.closeTimeoutMs } = parseOrThrow(
      closeOptionsSchema,
      options ?? {},
      'close',
      (_message, issues) => new DbArgumentError(issues),
    );
    this.#closing ??= (async () => {
      const targets = this.#replica ? [this.#primary, this.#replica] : [this.#primary];
      this.#metrics.close();
      // Waiting callers refused at once; a recovery check under way ends with the pool's sockets.
      const pools = targets.map((t) => t.pool);
      await Promise.all([
        ...targets.map((t) => t.close()),
        endPools(pools, { timeoutMs, clock: this.#clock, log: this.#log }),
      ]);
    })();
    // After endPools has taken hold of every socket: a cut call's connection leaves the pool, and
    // would otherwise stay open (pg waits for a hung server to close it).
    this.#closed.abort(new DbClosedError());
    return this.#closing;
  }

  async #runOnce<R extends QueryResultRow>(
    lease: Lease,
    spec: QuerySpec,
    signal: AbortSignal | undefined,
    sent = { statement: false },
  ): Promise<QueryResult<R>> {
    const { timeoutMs } = spec.options;
    if (timeoutMs === undefined) {
      sent.statement = true;
      return lease.run<R>(statement(spec), signal);
    }
    // A shorter statement_timeout for this statement only: the server stops it, not just us.
    await lease.run({ text: `SET statement_timeout = ${timeoutMs}` }, signal);
    try {
      sent.statement = true;
      return await lease.run<R>({ ...statement(spec), query_timeout: timeoutMs + QUERY_TIMEOUT_MARGIN_MS }, signal);
    } finally {
      if (!lease.broken) await lease.run({ text: 'RESET statement_timeout' }).catch((error) => lease.spoil(error));
    }
  }

  #onPrimary<R extends QueryResultRow>(
    spec: QuerySpec,
    signal: AbortSignal,
    sent: { statement: boolean },
  ): Promise<QueryResult<R>> {
    const run = () => this.#primary.withLease(signal, (lease, s) => this.#runOnce<R>(lease, spec, s, sent));
    // No async wrapper when there is no probe to wait for: fewer promises on every query.
    if (this.#probeSql === undefined || this.#primary.breaker.state !== 'half_open') return run();
    return this.#probeIfHalfOpen(signal).then(run);
  }

  /**
   * On the replica's own circuit (so a dead replica is shed too), and within what is left of the
   * caller's deadline (the primary circuit's callTimeoutMs, counted from the start of the call).
   */
  #onReplica<R extends QueryResultRow>(replica: DbServer, spec: QuerySpec, signal: AbortSignal, start: number) {
    this.#log.debug('read-only query failing over to the replica');
    const deadline = this.#primary.breaker.config.callTimeoutMs;
    const timeoutMs = deadline === undefined ? undefined : Math.max(0, start + deadline - this.#clock.now());
    return runWithDeadline((s) => replica.withLease(s, (lease, r) => this.#runOnce<R>(lease, spec, r)), {
      timeoutMs,
      signal,
      clock: this.#clock,
      circuitName: REPLICA_CIRCUIT_NAME,
    });
  }

  /** With a probe configured, half-open trials are the probe: callers wait for it, then run through the closed circuit. */
  async #probeIfHalfOpen(signal: AbortSignal | undefined): Promise<void> {
    const sql = this.#probeSql;
    if (sql === undefined) return;
    const breaker = this.#primary.breaker;
    for (let i = 0; i < breaker.config.successThreshold && breaker.state === 'half_open'; i++) {
      if (!this.#probing) {
        const probe = this.#primary
          .withLease(undefined, (lease, s) => lease.run({ text: sql }, s))
          .then(
            () => {},
            (error: unknown) => this.#log.info({ error: loggedError(error) }, 'half-open probe failed'),
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
    const given = checkSessionOptions(fn, options).signal;
    this.#ensureOpen();
    const signal = this.#signalFor(given);
    // The session's start goes through the same failover as a query (the primary alone), so a
    // database that cannot serve it is a DbUnavailableError here too.
    const { value: lease } = await failover(
      [
        {
          name: CIRCUIT_NAME,
          run: async () => {
            await this.#probeIfHalfOpen(signal);
            return this.#primary.session(signal, (held, s) => this.#begin(held, s, transactional));
          },
        },
      ],
      { signal, stopOn: (error) => !shouldFailOver(error) },
    ).catch((error: unknown) => {
      throw isFallbackExhaustedError(error) ? new DbUnavailableError(error) : error;
    });
    return runSession(lease, fn, transactional, {
      breaker: this.#primary.breaker,
      log: this.#log,
      statementTimeoutMs: this.#statementTimeoutMs,
      clock: this.#clock,
      observe: (spec, outcome, start) => this.#observe(spec, outcome, start),
      signalFor: (given) => this.#signalFor(given),
    });
  }

  async #begin(held: Lease, signal: AbortSignal, transactional: boolean): Promise<Lease> {
    try {
      if (transactional) await held.run({ text: 'BEGIN' }, signal);
      // The circuit may have given up on this call (deadline, abort): nobody would release it.
      if (signal.aborted) throw signal.reason;
    } catch (error) {
      held.release();
      throw error;
    }
    return held;
  }

  #observe(spec: QuerySpec, outcome: QueryOutcome, start: number): void {
    this.#metrics.observeQuery(spec.options.name ?? 'unnamed', outcome, (this.#clock.now() - start) / 1000);
  }

  /** The caller's signal, combined with close(): a close cuts every call in flight. */
  #signalFor(given: AbortSignal | undefined): AbortSignal {
    return given ? AbortSignal.any([given, this.#closed.signal]) : this.#closed.signal;
  }

  #ensureOpen(): void {
    if (this.#closing) throw new DbClosedError();
  }
}

/** The server answered (a SQLSTATE): the statement did not run, whatever failed. */
function answered(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** Worth asking the replica: the primary refused (open circuit), ran out of time or is unavailable. */
function shouldFailOver(error: unknown): boolean {
  return isCircuitOpenError(error) || isTimeoutError(error) || classifyPgError(error) === 'failure';
}
