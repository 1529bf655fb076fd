import type { CircuitBreaker, Clock, Logger } from '@gl-vcci/breaker-core';
import { loggedError } from '@gl-vcci/breaker-core/client';
import type { QueryResult, QueryResultRow } from 'pg';
import { checkQuery, type QuerySpec } from './arguments.js';
import { classifyPgError } from './classify.js';
import type { Lease, Statement } from './connection.js';
import { DbArgumentError, DbSessionBrokenError, DbTransactionAbortedError } from './errors.js';
import { outcomeOf, type QueryOutcome } from './metrics.js';
import type { DbResult, DbSession, DbSource, SessionQueryOptions } from './types.js';

/** What a session needs of its client. */
export interface SessionContext {
  breaker: CircuitBreaker;
  log: Logger;
  statementTimeoutMs: number;
  clock: Clock;
  observe(spec: QuerySpec, outcome: QueryOutcome, start: number): void;
  /** A statement's signal, combined with the client's close(): a close cuts it too. */
  signalFor(given: AbortSignal | undefined): AbortSignal;
}

/**
 * Runs a `transaction` or `withClient` callback on a connection already taken (and, for a
 * transaction, already in BEGIN): each statement through the circuit, then COMMIT (or ROLLBACK
 * when the callback throws), and the connection released whatever happens.
 */
export async function runSession<T>(
  lease: Lease,
  fn: (session: DbSession) => Promise<T>,
  transactional: boolean,
  ctx: SessionContext,
): Promise<T> {
  const session: DbSession = {
    query: <R extends QueryResultRow>(text: string, params?: readonly unknown[], opts?: SessionQueryOptions) =>
      sessionQuery<R>(ctx, lease, text, params, opts),
  };
  let value: T;
  try {
    value = await fn(session);
  } catch (error) {
    if (transactional) await rollback(ctx, lease);
    lease.release();
    throw error;
  }
  try {
    if (transactional) await commit(ctx, lease);
  } finally {
    lease.release();
  }
  return value;
}

async function sessionQuery<R extends QueryResultRow>(
  ctx: SessionContext,
  lease: Lease,
  text: string,
  params: readonly unknown[] | undefined,
  options: SessionQueryOptions | undefined,
): Promise<DbResult<R>> {
  const spec = checkQuery(text, params, options, 'session', ctx.statementTimeoutMs);
  if (lease.released) {
    throw new DbArgumentError([
      { path: 'session', message: 'expected a query inside its callback, which has returned' },
    ]);
  }
  // An earlier statement was abandoned (its reply would come out of turn) or lost the connection.
  if (lease.broken !== undefined) throw new DbSessionBrokenError(lease.broken);
  const signal = ctx.signalFor(spec.options.signal);
  const start = ctx.clock.now();
  let outcome: QueryOutcome = 'success';
  try {
    return sourced(await ctx.breaker.execute((s) => lease.run<R>(statement(spec), s), { signal }), 'live');
  } catch (error) {
    outcome = outcomeOf(error, signal);
    throw error;
  } finally {
    ctx.observe(spec, outcome, start);
  }
}

/**
 * Like ROLLBACK, outside the circuit's admission: the callback's work is done, an open circuit
 * must not turn it into a rollback. Bounded by the pool's query_timeout. Never sent on a broken
 * connection (an abandoned statement might still commit): that one is destroyed, which rolls back.
 */
async function commit(ctx: SessionContext, lease: Lease): Promise<void> {
  if (lease.broken !== undefined) throw new DbTransactionAbortedError(lease.broken);
  let result: QueryResult;
  try {
    result = await lease.run({ text: 'COMMIT' });
  } catch (error) {
    // Not counted by the circuit (it did not admit the call): logged, so an outage still shows.
    if (classifyPgError(error) === 'failure') {
      ctx.log.warn({ error: loggedError(error) }, 'COMMIT failed with an availability error; the outcome is unknown');
    }
    throw error;
  }
  // PostgreSQL answers COMMIT of a failed transaction with a ROLLBACK, not an error: say so.
  if (result.command === 'ROLLBACK') throw new DbTransactionAbortedError();
}

/** Outside the circuit: cleanup must run even when it is open. A connection that cannot roll back is destroyed, which rolls back. */
async function rollback(ctx: SessionContext, lease: Lease): Promise<void> {
  if (lease.broken || lease.released) return;
  try {
    await lease.run({ text: 'ROLLBACK' });
  } catch (error) {
    lease.spoil(error);
    ctx.log.warn({ error: loggedError(error) }, 'ROLLBACK failed; the connection is destroyed instead');
  }
}

export function statement(spec: QuerySpec): Statement {
  // The caller's `name` is a metric label only: given to pg it would name a prepared statement.
  return { text: spec.text, values: spec.values };
}

export function sourced<R extends QueryResultRow>(result: QueryResult<R>, source: DbSource): DbResult<R> {
  // Several statements in one text (allowed without params) give one result each: keep the last.
  const r = Array.isArray(result) ? (result.at(-1) as QueryResult<R>) : result;
  return { command: r.command, rowCount: r.rowCount, oid: r.oid, fields: r.fields, rows: r.rows, source };
}
