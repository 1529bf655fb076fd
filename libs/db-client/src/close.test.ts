import { Socket } from 'node:net';
import { flushPromises, track } from '@gl-vcci/breaker-core/testing';
import { type PostgresServer, startPostgres } from '@gl-vcci/upstreams/postgres-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, reasonOf, rejectionOf } from '../test/support.js';
import { createDbClient } from './client.js';
import { isDbArgumentError, isDbClosedError } from './errors.js';

/** Sockets of this process connected to `port`, or still connecting (a cancel request to a hung server). */
function socketsTo(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => h instanceof Socket && (h.remotePort === port || h.connecting)).length;
}

describe('close', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('while the server hangs, ends within its timeout and leaves no socket behind (issue 11 #7)', async () => {
    const { db, clock } = harness({ connectionString: server.url, pool: { max: 3 } });
    // Three warm connections, then one of them busy with a statement the hung server never answers.
    await Promise.all([1, 2, 3].map(() => db.query('SELECT pg_sleep(0.05)')));
    expect(socketsTo(server.port)).toBe(3);
    server.pause();
    try {
      const running = reasonOf(db.query('SELECT 1'));
      await flushPromises();
      const closing = db.close({ timeoutMs: 2_000 });
      const closed = track(closing);
      await flushPromises();
      // Terminate was sent; nobody answers it, and the statement still holds its connection.
      expect(closed.status).toBe('pending');
      expect(isDbClosedError(await reasonOf(db.query('SELECT 1')))).toBe(true);
      clock.advance(2_000);
      await closing;
      expect(socketsTo(server.port)).toBe(0);
      // Cut by close() itself, as in the other clients: the caller's outage, not the database's.
      expect(isDbClosedError(await running)).toBe(true);
    } finally {
      server.resume();
    }
  });

  it('cuts the statements in flight with DbClosedError, counting none against the shared circuit', async () => {
    const { db, breaker, registry, clock } = harness({ connectionString: server.url, pool: { max: 3 } });
    const other = createDbClient({ registry, connectionString: server.url });
    await db.query('SELECT 1');
    server.pause();
    try {
      const running = [1, 2, 3].map(() => rejectionOf(db.query('SELECT 1')));
      await flushPromises();
      const closing = db.close({ timeoutMs: 300 });
      for (const error of await Promise.all(running)) expect(isDbClosedError(error)).toBe(true);
      clock.advance(300);
      await closing;
      expect(breaker.state).toBe('closed');
      expect(breaker.snapshot().failuresInWindow).toBe(0);
    } finally {
      server.resume();
    }
    expect((await other.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
    await other.close();
  });

  it('does not wait for a connection still being made to a hung server', async () => {
    // connectionTimeoutMillis far beyond the test's timeout: only close() itself can end the attempt.
    const { db, clock } = harness({
      connectionString: server.url,
      pool: { connectionTimeoutMillis: 60_000 },
      breaker: { callTimeoutMs: 70_000 },
    });
    server.pause();
    try {
      const connecting = reasonOf(db.query('SELECT 1'));
      await flushPromises();
      const closing = db.close({ timeoutMs: 120_000 });
      expect(isDbClosedError(await connecting)).toBe(true);
      await closing; // without advancing the clock to the close timeout
      expect(clock.pendingTimers).toBe(0);
      expect(socketsTo(server.port)).toBe(0);
    } finally {
      server.resume();
    }
  });

  it('cuts a session statement in flight with DbClosedError at once, counting it against no circuit', async () => {
    const { db, breaker, clock } = harness({ connectionString: server.url });
    await db.query('SELECT 1');
    let started!: () => void;
    const inSession = new Promise<void>((resolve) => {
      started = resolve;
    });
    const session = reasonOf(
      db.withClient(async (s) => {
        started();
        await s.query('SELECT pg_sleep(30)');
      }),
    );
    await inSession;
    await flushPromises();
    const closing = db.close({ timeoutMs: 2_000 });
    expect(isDbClosedError(await session)).toBe(true); // before the close timeout
    clock.advance(2_000);
    await closing;
    expect(breaker.snapshot().failuresInWindow).toBe(0);
  });

  it('leaves no cancel request behind: a statement the caller abandoned on a hung server', async () => {
    const { db, clock } = harness({ connectionString: server.url });
    await db.query('SELECT 1');
    server.pause();
    try {
      const controller = new AbortController();
      const running = rejectionOf(db.query('SELECT 1', [], { signal: controller.signal }));
      await flushPromises();
      controller.abort(new Error('the caller gave up'));
      await running; // PostgreSQL's cancel request now waits on a socket of its own
      const closing = db.close({ timeoutMs: 100 });
      clock.advance(100);
      await closing;
      expect(socketsTo(server.port)).toBe(0);
    } finally {
      server.resume();
    }
  });

  it('with a healthy server, ends every connection gracefully without waiting for the timeout', async () => {
    const { db } = harness({ connectionString: server.url, pool: { max: 2 } });
    await Promise.all([1, 2].map(() => db.query('SELECT 1')));
    await db.close();
    expect(socketsTo(server.port)).toBe(0);
    expect(db.status()).toMatchObject({ closed: true });
  });

  it('refuses a timeout that is not a positive number of ms', async () => {
    const { db } = harness({ connectionString: server.url });
    const closing = db.close({ timeoutMs: -1 }); // a rejected promise, never a synchronous throw
    expect(isDbArgumentError(await reasonOf(closing))).toBe(true);
  });
});
