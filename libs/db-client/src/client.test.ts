import { CircuitOpenError, TimeoutError } from '@gl-vcci/breaker-core';
import { waitFor } from '@gl-vcci/breaker-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, harness, reasonOf, rejectionOf, shared, uniqueTable } from '../test/support.js';
import { classifyPgError } from './classify.js';
import { DbClosedError, type DbRequestError, DbSessionBrokenError, DbTransactionAbortedError } from './errors.js';

describe.skipIf(!shared.available)('createDbClient on the shared PostgreSQL', () => {
  const table = uniqueTable('db_client_items');

  beforeAll(async () => {
    const admin = await adminClient();
    await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY, label text)`);
  });

  afterAll(async () => {
    const admin = await adminClient();
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  it("query resolves pg's result (rows, rowCount, fields, command) with source live", async () => {
    const { db } = harness();
    const result = await db.query<{ n: number; s: string }>('SELECT 7 AS n, $1::text AS s', ['seven']);
    expect(result).toMatchObject({ command: 'SELECT', rowCount: 1, rows: [{ n: 7, s: 'seven' }], source: 'live' });
    expect(result.fields.map((f) => f.name)).toEqual(['n', 's']);
  });

  it('every connection carries statement_timeout and a slightly longer query_timeout', async () => {
    const { db } = harness();
    expect((await db.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '3s' }]);
  });

  it('a statement timeout ends the query on the server (57014) and keeps the connection', async () => {
    const { db, appName } = harness({ pool: { statement_timeout: 200, query_timeout: 700, max: 1 } });
    const before = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const error = await reasonOf(db.query('SELECT pg_sleep(5) /* statement-timeout-probe */'));
    expect(error).toMatchObject({ code: '57014' });
    const admin = await adminClient();
    const active = await admin.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
      [appName],
    );
    expect(active.rows[0]!.n).toBe(0);
    expect((await db.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid).toBe(before);
  });

  it('timeoutMs shortens the statement timeout of that one query', async () => {
    const { db } = harness({ pool: { max: 1 } });
    expect(await reasonOf(db.query('SELECT pg_sleep(2)', [], { timeoutMs: 100 }))).toMatchObject({
      code: '57014',
    });
    expect((await db.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '3s' }]);
  });

  it('1 000 unique violations leave the circuit closed: they are the callers’ fault', async () => {
    const { db, breaker, sample } = harness({ breaker: { failMax: 3 } });
    await db.query(`INSERT INTO ${table} (id, label) VALUES (1000, 'taken')`);
    const codes = new Map<string, number>();
    const worker = async () => {
      for (let i = 0; i < 250; i++) {
        const error = (await reasonOf(db.query(`INSERT INTO ${table} (id) VALUES (1000)`))) as DbRequestError;
        codes.set(error.sqlState, (codes.get(error.sqlState) ?? 0) + 1);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(Object.fromEntries(codes)).toEqual({ '23505': 1000 });
    expect(breaker.state).toBe('closed');
    expect(
      await sample('greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="ignored"}'),
    ).toBe(1000);
    expect(
      await sample('greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="failure"}'),
    ).toBe(0);
  });

  it('a caller error keeps the connection: no reconnect churn', async () => {
    const { db } = harness({ pool: { max: 1 } });
    const pid = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    for (let i = 0; i < 5; i++) await reasonOf(db.query('SELECT 1/0'));
    expect((await db.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid).toBe(pid);
  });

  it('transaction commits and resolves what the callback returns', async () => {
    const { db } = harness();
    const value = await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} (id, label) VALUES (1, 'one')`);
      return (await tx.query(`SELECT label FROM ${table} WHERE id = 1`)).rows[0]!.label;
    });
    expect(value).toBe('one');
    expect((await db.query(`SELECT label FROM ${table} WHERE id = 1`)).rows).toEqual([{ label: 'one' }]);
  });

  it('transaction rolls back when the callback throws, rethrows that very error and returns the connection', async () => {
    const { db, sample } = harness({ pool: { max: 1 } });
    const boom = new Error('boom');
    const error = await reasonOf(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id, label) VALUES (2, 'two')`);
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect((await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE id = 2`)).rows).toEqual([{ n: 0 }]);
    expect(await sample('greenlang_db_pool_connections{pool="primary",state="idle"}')).toBe(1);
    expect(await sample('greenlang_db_pool_connections{pool="primary",state="waiting"}')).toBe(0);
  });

  it('transaction whose callback swallowed a failed statement is rolled back with DbTransactionAbortedError', async () => {
    const { db } = harness();
    const error = await reasonOf(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id, label) VALUES (3, 'three')`);
        await tx.query('SELECT 1/0').catch(() => {});
        return 'looks fine';
      }),
    );
    expect(error).toBeInstanceOf(DbTransactionAbortedError);
    expect((await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE id = 3`)).rows).toEqual([{ n: 0 }]);
  });

  it('a transaction whose statement was aborted is never committed: DbTransactionAbortedError, connection destroyed', async () => {
    const { db } = harness({ pool: { max: 1 } });
    const pid = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const reason = new Error('caller gave up');
    const error = await reasonOf(
      db.transaction(async (tx) => {
        const controller = new AbortController();
        const insert = tx.query(`INSERT INTO ${table} (id, label) VALUES (20, 'abandoned')`, [], {
          signal: controller.signal,
        });
        controller.abort(reason);
        await insert.catch(() => {}); // the caller was told the INSERT did not happen
        return 'looks fine';
      }),
    );
    expect(error).toBeInstanceOf(DbTransactionAbortedError);
    expect(error).toMatchObject({ cause: reason });
    expect((await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE id = 20`)).rows).toEqual([{ n: 0 }]);
    expect((await db.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid).not.toBe(pid);
  });

  it('a transaction whose statement hit the circuit’s deadline is never committed', async () => {
    const { db, clock } = harness({ breaker: { callTimeoutMs: 10_000 } });
    const error = await reasonOf(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} (id, label) VALUES (21, 'timed out')`);
        const slow = tx.query('SELECT pg_sleep(30)');
        clock.advance(10_000);
        expect(await reasonOf(slow)).toBeInstanceOf(TimeoutError);
        return 'looks fine';
      }),
    );
    expect(error).toBeInstanceOf(DbTransactionAbortedError);
    expect((error as Error).cause).toBeInstanceOf(TimeoutError);
    expect((await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE id = 21`)).rows).toEqual([{ n: 0 }]);
  });

  it('a session refuses further statements once one was abandoned: DbSessionBrokenError, nothing sent', async () => {
    const { db, sample } = harness();
    const reason = new Error('caller gave up');
    const error = await reasonOf(
      db.withClient(async (session) => {
        const controller = new AbortController();
        const first = session.query('SELECT pg_sleep(30)', [], { signal: controller.signal });
        controller.abort(reason);
        await first.catch(() => {});
        await session.query('SELECT 1');
      }),
    );
    expect(error).toBeInstanceOf(DbSessionBrokenError);
    expect(error).toMatchObject({ code: 'DB_SESSION_BROKEN', cause: reason });
    // The abandoned statement only: the refused one never reached the circuit.
    expect(
      await sample('greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="ignored"}'),
    ).toBe(1);
  });

  it('COMMIT runs even when the circuit opened while the callback ran: the work is not thrown away', async () => {
    const { db, breaker } = harness();
    const value = await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} (id, label) VALUES (22, 'committed')`);
      breaker.forceOpen(); // other callers' failures opened it meanwhile
      return 'done';
    });
    expect(value).toBe('done');
    expect(await reasonOf(db.query('SELECT 1'))).toBeInstanceOf(CircuitOpenError);
    breaker.reset();
    expect((await db.query(`SELECT label FROM ${table} WHERE id = 22`)).rows).toEqual([{ label: 'committed' }]);
  });

  it('withClient runs every statement of its callback on one connection', async () => {
    const { db } = harness();
    const shown = await db.withClient(async (session) => {
      await session.query("SET application_name = 'db-client-with-client'");
      return (await session.query('SHOW application_name')).rows[0]!.application_name;
    });
    expect(shown).toBe('db-client-with-client');
  });

  it('withClient destroys a connection its callback left inside a transaction', async () => {
    const { db } = harness({ pool: { max: 1 } });
    const pid = await db.withClient(async (session) => {
      await session.query('BEGIN');
      return (await session.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    });
    expect((await db.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid).not.toBe(pid);
  });

  it('a session used after its callback returned is refused', async () => {
    const { db } = harness();
    let leaked: Parameters<Parameters<typeof db.withClient>[0]>[0] | undefined;
    await db.withClient(async (session) => {
      leaked = session;
    });
    expect(await reasonOf(leaked!.query('SELECT 1'))).toMatchObject({ code: 'DB_INVALID_ARGUMENT' });
  });

  it('the process survives the backend of an idle pooled connection being terminated', async () => {
    const { db, appName, sample } = harness();
    await db.query('SELECT 1');
    const admin = await adminClient();
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [appName]);
    await waitFor(
      async () => (await sample('greenlang_db_connection_errors_total{state="idle"}')) === 1,
      'the pool to report the dead idle connection',
    );
    expect(await sample('greenlang_db_pool_connections{pool="primary",state="total"}')).toBe(0);
    expect((await db.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('the process survives the backend of a held connection being terminated; the next statement is refused', async () => {
    const { db, sample } = harness();
    const admin = await adminClient();
    const error = await reasonOf(
      db.withClient(async (session) => {
        const pid = (await session.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await waitFor(
          async () => (await sample('greenlang_db_connection_errors_total{state="held"}')) === 1,
          'the held connection to report its error',
        );
        await session.query('SELECT 1');
      }),
    );
    expect(error).toBeInstanceOf(DbSessionBrokenError);
    expect(classifyPgError((error as Error).cause)).toBe('failure');
    expect(await sample('greenlang_db_pool_connections{pool="primary",state="total"}')).toBe(0);
    expect((await db.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('a caller abort rejects at once with the reason, counts as neither, and cancels the statement on the server', async () => {
    // statement_timeout far above the wait: only the cancel request can end the statement in time.
    const { db, appName, sample } = harness({ pool: { statement_timeout: 60_000 } });
    const admin = await adminClient();
    const controller = new AbortController();
    const pending = db.query('SELECT pg_sleep(30)', [], { signal: controller.signal });
    const running = () =>
      admin
        .query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'", [
          appName,
        ])
        .then((r) => r.rows[0]!.n as number);
    await waitFor(async () => (await running()) === 1, 'the statement to run');
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await reasonOf(pending)).toBe(reason);
    await waitFor(async () => (await running()) === 0, 'the server to cancel the statement', 1_000);
    expect(
      await sample('greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="ignored"}'),
    ).toBe(1);
    expect(await sample('greenlang_db_pool_connections{pool="primary",state="waiting"}')).toBe(0);
  });

  it('the circuit’s deadline abandons a call, counts it as a timeout and cancels the statement on the server', async () => {
    // statement_timeout far above the wait: only the cancel request can end the statement in time.
    const { db, appName, clock, sample } = harness({
      pool: { statement_timeout: 60_000 },
      breaker: { callTimeoutMs: 70_000 },
    });
    const admin = await adminClient();
    const pending = reasonOf(db.query('SELECT pg_sleep(30)'));
    const running = () =>
      admin
        .query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'", [
          appName,
        ])
        .then((r) => r.rows[0]!.n as number);
    await waitFor(async () => (await running()) === 1, 'the statement to run');
    const { rows } = await admin.query(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
      [appName],
    );
    clock.advance(70_000);
    expect(await pending).toBeInstanceOf(TimeoutError);
    await waitFor(async () => (await running()) === 0, 'the server to cancel the statement', 1_000);
    expect(
      await sample('greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="timeout"}'),
    ).toBe(1);
    // The abandoned connection is not handed to the next caller.
    expect((await db.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid).not.toBe(rows[0]!.pid);
  });

  it('an abort while waiting for a pooled connection gives nothing back late to anyone', async () => {
    const { db, sample } = harness({ pool: { max: 1 } });
    const controller = new AbortController();
    let waiting: Promise<unknown> | undefined;
    await db.withClient(async () => {
      waiting = rejectionOf(db.query('SELECT 1', [], { signal: controller.signal }));
      await waitFor(
        async () => (await sample('greenlang_db_pool_connections{pool="primary",state="waiting"}')) === 1,
        'a waiter',
      );
      controller.abort(new Error('not waiting any longer'));
      expect(await waiting).toMatchObject({ message: 'not waiting any longer' });
    });
    expect((await db.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    expect(await sample('greenlang_db_pool_connections{pool="primary",state="total"}')).toBe(1);
  });

  it('status() gives each circuit’s state, whether the client is closed, and the pool’s counts', async () => {
    const { db, breaker } = harness({ pool: { max: 2 } });
    await db.query('SELECT 1');
    expect(db.status()).toEqual({
      circuits: { 'database.postgres': 'closed' },
      closed: false,
      pools: { primary: { max: 2, total: 1, idle: 1, waiting: 0 } },
    });
    breaker.forceOpen();
    expect(db.status().circuits).toEqual({ 'database.postgres': 'forced_open' });
  });

  it('calls after close reject with DbClosedError', async () => {
    const { db } = harness();
    await db.close();
    expect(await reasonOf(db.query('SELECT 1'))).toBeInstanceOf(DbClosedError);
    await db.close();
  });
});
