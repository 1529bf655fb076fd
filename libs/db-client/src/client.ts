import {
  type CircuitBreaker,
  type Clock,
  isCircuitOpenError,
  isFallbackExhaustedError,
  isTimeoutError,
  type Logger,
  runWithDeadline,
} from '@gl-vcci/breaker-core';
import { durationMs, failover, parseOrThrow, raceAbort } from '@gl-vcci/breaker-core/client';
import { Pool, type QueryResult, type QueryResultRow } from 'pg';
import { z } from 'zod';
import { checkQuery, checkSessionOptions, type QuerySpec } from './arguments.js';
import { classifyPgError, isCredentialsRefused } from './classify.js';
import { endPools } from './close.js';
import { acquire, type Lease } from './connection.js';
import { DbArgumentError, DbClosedError, DbUnavailableError, errorFields } from './errors.js';
import { DbMetrics, outcomeOf, type QueryOutcome } from './metrics.js';
import {
  CIRCUIT_NAME,
  DEFAULTS,
  QUERY_TIMEOUT_MARGIN_MS,
  REPLICA_CIRCUIT_NAME,
  type ResolvedOptions,
  type ResolvedPool,
  resolveOptions,
} from './options.js';
import { RecoveryCheck } from './recovery.js';
import { runSession, sourced, statement } from './session.js';
import { PoolSlots } from './slots.js';
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

/** One server: its pool, the slots in front of it, its circuit. */
interface Target {
  role: 'primary' | 'replica';
  circuit: string;
  pool: Pool;
  slots: PoolSlots;
  breaker: CircuitBreaker;
  recovery: RecoveryCheck | undefined;
}

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
  readonly #primary: Target;
  readonly #replica: Target | undefined;
  readonly #statementTimeoutMs: number;
  readonly #probeSql: string | undefined;
  readonly #metrics: DbMetrics;
  readonly #log: Logger;
  readonly #clock: Clock;
  #probing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(o: ResolvedOptions) {
    this.#log = o.logger.child({ client: 'db', circuit: CIRCUIT_NAME });
    this.#clock = o.registry.clock;
    this.#statementTimeoutMs = o.primary.statementTimeoutMs;
    this.#probeSql = o.probe;
    const target = (pool: ResolvedOptions['primary'], circuit: string): Target => {
      const t: Target = {
        role: pool.role,
        circuit,
        pool: this.#makePool(pool),
        slots: new PoolSlots({
          size: pool.size,
          maxWaiting: pool.maxWaiting,
          waitMs: pool.connectionTimeoutMs,
          clock: this.#clock,
          role: pool.role,
        }),
        breaker: pool.breaker,
        recovery: undefined,
      };
      if (o.recoveryCheckMs !== undefined) {
        t.recovery = new RecoveryCheck({
          breaker: pool.breaker,
          clock: this.#clock,
          intervalMs: o.recoveryCheckMs,
          check: (signal) => this.#recoveryCheck(t, o.recoverySql, signal),
          log: this.#log.child({ circuit }),
        });
      }
      return t;
    };
    this.#primary = target(o.primary, CIRCUIT_NAME);
    this.#replica = o.replica && target(o.replica, REPLICA_CIRCUIT_NAME);
    const counts = (t: Target) => ({
      get totalCount() {
        return t.pool.totalCount;
      },
      get idleCount() {
        return t.pool.idleCount;
      },
      get waitingCount() {
        return t.slots.waiting;
      },
    });
    this.#metrics = new DbMetrics(
      o.registry.metricsRegistry,
      this.#replica
        ? { primary: counts(this.#primary), replica: counts(this.#replica) }
        : { primary: counts(this.#primary) },
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
      const replica = this.#replica;
      if (!(readOnly && replica)) return sourced(await this.#onPrimary<R>(spec, signal), 'live');
      const { value, source } = await failover<QueryResult<R>>(
        [
          { name: CIRCUIT_NAME, run: () => this.#onPrimary<R>(spec, signal) },
          { name: REPLICA_CIRCUIT_NAME, run: () => this.#onReplica<R>(replica, spec, start) },
        ],
        // The caller's own mistake (bad SQL) is theirs whichever server said so.
        { signal, stopOn: (error) => !shouldFailOver(error) },
      );
      if (source === 'failover') outcome = 'failover';
      return sourced(value, source === 'failover' ? 'failover' : 'live');
    } catch (error) {
      const thrown = isFallbackExhaustedError(error) ? new DbUnavailableError(error) : error;
      outcome = outcomeOf(thrown, signal);
      throw thrown;
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
    const pool = (t: Target) => ({ total: t.pool.totalCount, idle: t.pool.idleCount, waiting: t.slots.waiting });
    const targets = this.#replica ? [this.#primary, this.#replica] : [this.#primary];
    return {
      circuits: Object.fromEntries(targets.map((t) => [t.circuit, t.breaker.state])),
      closed: this.#closing !== undefined,
      pools: this.#replica
        ? { primary: pool(this.#primary), replica: pool(this.#replica) }
        : { primary: pool(this.#primary) },
    };
  }

  close(options?: CloseOptions): Promise<void> {
    const { timeoutMs = DEFAULTS.closeTimeoutMs } = parseOrThrow(
      closeOptionsSchema,
      options ?? {},
      'close',
      (_message, issues) => new DbArgumentError(issues),
    );
    this.#closing ??= (async () => {
      const targets = this.#replica ? [this.#primary, this.#replica] : [this.#primary];
      for (const t of targets) t.slots.close();
      this.#metrics.close();
      await Promise.all(targets.map((t) => t.recovery?.close()));
      await endPools(
        targets.map((t) => t.pool),
        { timeoutMs, clock: this.#clock, log: this.#log },
      );
    })();
    return this.#closing;
  }

  #makePool(resolved: ResolvedPool): Pool {
    const pool = new Pool(resolved.config);
    // Without this listener an idle connection whose backend dies crashes the process.
    pool.on('error', (error) => {
      this.#metrics?.connectionError('idle');
      this.#log.warn({ pool: resolved.role, ...errorFields(error) }, 'idle database connection failed and was dropped');
    });
    return pool;
  }

  readonly #onHeldError = (error: Error) => {
    this.#metrics.connectionError('held');
    this.#log.warn(errorFields(error), 'held database connection failed');
  };

  /**
   * A connection of `target` for `work`, through its circuit. The slot is waited for outside the
   * circuit (a full pool is our saturation, not the database's failure, and the deadline is for
   * the server); while the circuit refuses calls, straight to it, so it rejects without waiting.
   */
  async #withLease<T>(
    target: Target,
    signal: AbortSignal | undefined,
    work: (lease: Lease, s: AbortSignal) => Promise<T>,
    keep = false,
  ): Promise<T> {
    let started = false;
    const call = async (slot: () => void, s: AbortSignal) => {
      started = true; // the slot is acquire's from here, then the lease's
      const lease = await this.#connect(target, slot, s);
      if (keep) return work(lease, s);
      try {
        return await work(lease, s);
      } finally {
        lease.release();
      }
    };
    const { breaker, slots } = target;
    if (breaker.state === 'open' || breaker.state === 'forced_open') {
      return breaker.execute(async (s) => call(await slots.take(s), s), { signal });
    }
    const slot = await slots.take(signal);
    try {
      return await breaker.execute((s) => call(slot, s), { signal });
    } catch (error) {
      if (!started) slot(); // the circuit refused the call
      throw error;
    }
  }

  async #connect(target: Target, slot: () => void, signal: AbortSignal): Promise<Lease> {
    try {
      return await acquire(target.pool, slot, signal, this.#onHeldError);
    } catch (error) {
      if (isCredentialsRefused(error)) {
        this.#log.error(
          { pool: target.role, ...errorFields(error) },
          `credentials refused by ${target.circuit} (SQLSTATE ${(error as { code: string }).code}): check the user and password`,
        );
      }
      throw error;
    }
  }

  async #runOnce<R extends QueryResultRow>(
    lease: Lease,
    spec: QuerySpec,
    signal: AbortSignal,
  ): Promise<QueryResult<R>> {
    const { timeoutMs } = spec.options;
    if (timeoutMs === undefined) return lease.run<R>(statement(spec), signal);
    // A shorter statement_timeout for this statement only: the server stops it, not just us.
    await lease.run({ text: `SET statement_timeout = ${timeoutMs}` }, signal);
    try {
      return await lease.run<R>({ ...statement(spec), query_timeout: timeoutMs + QUERY_TIMEOUT_MARGIN_MS }, signal);
    } finally {
      if (!lease.broken) await lease.run({ text: 'RESET statement_timeout' }).catch((error) => lease.spoil(error));
    }
  }

  async #onPrimary<R extends QueryResultRow>(spec: QuerySpec, signal: AbortSignal | undefined) {
    await this.#probeIfHalfOpen(signal);
    return this.#withLease(this.#primary, signal, (lease, s) => this.#runOnce<R>(lease, spec, s));
  }

  /**
   * On the replica's own circuit (so a dead replica is shed too), and within what is left of the
   * caller's deadline (the primary circuit's callTimeoutMs, counted from the start of the call).
   */
  #onReplica<R extends QueryResultRow>(replica: Target, spec: QuerySpec, start: number) {
    this.#log.debug('read-only query failing over to the replica');
    const { signal } = spec.options;
    const deadline = this.#primary.breaker.config.callTimeoutMs;
    const timeoutMs = deadline === undefined ? undefined : Math.max(0, start + deadline - this.#clock.now());
    return runWithDeadline((s) => this.#withLease(replica, s, (lease, r) => this.#runOnce<R>(lease, spec, r)), {
      timeoutMs,
      signal,
      clock: this.#clock,
      circuitName: REPLICA_CIRCUIT_NAME,
    });
  }

  /** One connection and the probe's SQL, outside the circuit (which is open); false when no slot is free. */
  async #recoveryCheck(target: Target, sql: string, signal: AbortSignal): Promise<boolean> {
    const slot = target.slots.tryTake();
    if (!slot) return false;
    const lease = await this.#connect(target, slot, signal);
    try {
      await lease.run({ text: sql }, signal);
      return true;
    } finally {
      lease.release();
    }
  }

  /** With a probe configured, half-open trials are the probe: callers wait for it, then run through the closed circuit. */
  async #probeIfHalfOpen(signal: AbortSignal | undefined): Promise<void> {
    const sql = this.#probeSql;
    if (sql === undefined) return;
    const breaker = this.#primary.breaker;
    for (let i = 0; i < breaker.config.successThreshold && breaker.state === 'half_open'; i++) {
      if (!this.#probing) {
        const probe = this.#withLease(this.#primary, undefined, (lease, s) => lease.run({ text: sql }, s)).then(
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
    const { signal } = checkSessionOptions(fn, options);
    this.#ensureOpen();
    await this.#probeIfHalfOpen(signal);
    const lease = await this.#withLease(
      this.#primary,
      signal,
      async (held, s) => {
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
      true,
    );
    return runSession(lease, fn, transactional, {
      breaker: this.#primary.breaker,
      log: this.#log,
      statementTimeoutMs: this.#statementTimeoutMs,
      clock: this.#clock,
      observe: (spec, outcome, start) => this.#observe(spec, outcome, start),
    });
  }

  #observe(spec: QuerySpec, outcome: QueryOutcome, start: number): void {
    this.#metrics.observeQuery(spec.options.name ?? 'unnamed', outcome, (this.#clock.now() - start) / 1000);
  }

  #ensureOpen(): void {
    if (this.#closing) throw new DbClosedError();
  }
}

/** Worth asking the replica: the primary refused (open circuit), ran out of time or is unavailable. */
function shouldFailOver(error: unknown): boolean {
  return isCircuitOpenError(error) || isTimeoutError(error) || classifyPgError(error) === 'failure';
}
