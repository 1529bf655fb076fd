import { type Socket, connect as tcpConnect } from 'node:net';
import { raceAbort } from '@gl-vcci/breaker-core/client';
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { classifyPgError } from './classify.js';
import { isDbClosedError } from './errors.js';
import { fromPg } from './pg-errors.js';
import type { ReleaseSlot } from './slots.js';

/** A statement as pg takes it, with pg's per-query client-side timeout. */
export interface Statement extends QueryConfig<unknown[]> {
  query_timeout?: number;
}

/** How long a release waits for the ReadyForQuery of a statement that failed (it follows at once). */
const READY_WAIT_MS = 1_000;

/** What a server gives each of its leases. */
export interface LeaseHooks {
  /** Told when a held connection fails under its holder (the process would crash without a listener). */
  onHeldError: (error: Error) => void;
  /** Told when no connection could be made (pg's error, through `fromPg`). */
  onConnectError: (error: unknown) => void;
  /** Cancel requests still open, destroyed by the server's close(): none may outlive it. */
  cancels: Set<Socket>;
}

/**
 * Takes a connection from the pool for the holder of `slot` (given back with the connection). If
 * `signal` aborted meanwhile, the connection goes straight back to the pool and this rejects with
 * its reason. It does not race the signal: the circuit has already given the caller its answer at
 * the abort, and pg's connectionTimeoutMillis bounds the wait (a listener per call is ~1 µs).
 * pg's errors come out through `fromPg`.
 */
export async function acquire(
  pool: Pool,
  slot: ReleaseSlot,
  signal: AbortSignal | undefined,
  hooks: LeaseHooks,
): Promise<Lease> {
  if (signal?.aborted) {
    slot();
    throw signal.reason;
  }
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    slot();
    const safe = fromPg(error);
    hooks.onConnectError(safe);
    throw safe;
  }
  if (signal?.aborted) {
    client.release();
    slot();
    throw signal.reason;
  }
  return new Lease(client, slot, hooks);
}

/**
 * One connection checked out of the pool. While held it has an 'error' listener (pg crashes the
 * process otherwise), and on release it goes back to the pool only if it is known healthy:
 * destroyed after an availability error, an abandoned statement, or an open transaction.
 */
export class Lease {
  readonly #client: PoolClient;
  readonly #slot: ReleaseSlot;
  readonly #hooks: LeaseHooks;
  readonly #onError = (error: Error) => {
    this.#broken ??= fromPg(error);
    // pg emits twice for one death (the server's FATAL message, then the socket's end): report it once.
    if (this.#failed) return;
    this.#failed = true;
    this.#hooks.onHeldError(error);
  };
  #broken: unknown;
  #abandoned: unknown;
  /** Statements sent and not yet settled. */
  #running = 0;
  #failed = false;
  #released = false;

  constructor(client: PoolClient, slot: ReleaseSlot, hooks: LeaseHooks) {
    this.#client = client;
    this.#slot = slot;
    this.#hooks = hooks;
    client.on('error', this.#onError);
  }

  /** Why the connection cannot be reused, if it cannot. */
  get broken(): unknown {
    return this.#broken;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Marks the connection as not reusable: it is destroyed on release. */
  spoil(reason: unknown): void {
    this.#broken ??= reason;
  }

  /**
   * Runs one statement. If `signal` aborts first, rejects at once with its reason, asks the server
   * to cancel the statement, and spoils the connection (its reply would arrive out of turn).
   */
  run<R extends QueryResultRow>(statement: Statement, signal?: AbortSignal): Promise<QueryResult<R>> {
    // Abandoned at the call's deadline: no further statement of that call may start.
    if (this.#abandoned !== undefined) return Promise.reject(this.#abandoned);
    // Text and values as arguments when that is all there is: given a config object, pg copies it
    // property by property (cloneQueryConfig, ~2 µs here), which a plain string never costs.
    const pending = (
      statement.query_timeout === undefined && Object.keys(statement).length <= 2
        ? this.#client.query<R>(statement.text, statement.values)
        : this.#client.query<R>(statement as QueryConfig<unknown[]>)
    ).then(
      (result) => {
        this.#running--;
        return result;
      },
      (error: unknown) => {
        this.#running--;
        const safe = fromPg(error);
        if (classifyPgError(safe) === 'failure') this.#broken ??= safe;
        throw safe;
      },
    );
    this.#running++;
    return raceAbort(pending, signal, () => {
      pending.catch(() => {});
      this.#broken ??= signal?.reason ?? new Error('aborted');
      // Not when the client is closing: close() ends this connection itself, and a cancel would
      // open a socket of its own that could outlive close() while the server hangs.
      if (!isDbClosedError(signal?.reason)) cancelStatement(this.#client, this.#hooks.cancels);
    });
  }

  /**
   * The call holding this lease has passed its deadline: the statement running now is cancelled,
   * none may start after it, and the connection is destroyed on release.
   */
  abandon(reason: unknown): void {
    if (this.#released || this.#abandoned !== undefined) return;
    this.#abandoned = reason;
    this.#broken ??= reason;
    if (this.#running > 0) cancelStatement(this.#client, this.#hooks.cancels);
  }

  /** Back to the pool, or destroyed when it is broken or was left inside a transaction. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    const client = this.#client as PoolClient & { readyForQuery?: boolean };
    if (this.#broken !== undefined || client.readyForQuery === true) {
      this.#handBack();
      return;
    }
    // pg settles a failed statement on the server's ErrorResponse, before the ReadyForQuery that
    // says whether a transaction is still open; when that arrives in a later packet, wait for it
    // (pg emits 'drain' then), a bounded moment, rather than guess or destroy the connection.
    const onReady = () => {
      clearTimeout(timer);
      this.#handBack();
    };
    const timer = setTimeout(() => {
      client.off('drain', onReady);
      this.#broken ??= new Error('no ReadyForQuery after the statement');
      this.#handBack();
    }, READY_WAIT_MS);
    client.once('drain', onReady);
  }

  #handBack(): void {
    const client = this.#client;
    client.off('error', this.#onError);
    const status = client.getTransactionStatus();
    const reason =
      this.#broken ?? (status === 'I' ? undefined : new Error(`connection released in transaction state ${status}`));
    client.release(reason === undefined ? undefined : toError(reason));
    this.#slot();
  }
}

/**
 * Sends PostgreSQL's CancelRequest for the connection's running statement, on a connection of its
 * own (the protocol's way; pg has no public API for it). Best effort: the statement is bounded by
 * statement_timeout anyway, and the connection is destroyed whatever happens here.
 */
function cancelStatement(client: PoolClient, open: Set<Socket>): void {
  const { processID, secretKey, host, port } = client as unknown as {
    processID: number | null;
    secretKey: number | null;
    host: string;
    port: number;
  };
  if (typeof processID !== 'number' || typeof secretKey !== 'number') return;
  const request = Buffer.alloc(16);
  request.writeInt32BE(16, 0);
  request.writeInt32BE(80877102, 4); // the CancelRequest code
  request.writeInt32BE(processID, 8);
  request.writeInt32BE(secretKey, 12);
  const socket = host.startsWith('/') ? tcpConnect(`${host}/.s.PGSQL.${port}`) : tcpConnect(port, host);
  open.add(socket);
  socket.on('close', () => open.delete(socket));
  socket.setTimeout(2_000, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('connect', () => socket.end(request));
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
