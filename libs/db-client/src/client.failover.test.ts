import { CircuitOpenError, type FallbackExhaustedError, TimeoutError } from '@gl-vcci/breaker-core';
import { waitFor } from '@gl-vcci/breaker-core/testing';
import { startTcpProxy, type TcpProxy } from '@gl-vcci/upstreams/tcp-proxy';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { adminClient, harness, reasonOf, rejectionOf, shared, uniqueTable } from '../test/support.js';
import { DbUnavailableError } from './errors.js';

/** The replica's error inside a DbUnavailableError. */
const replicaError = (error: unknown) =>
  ((error as DbUnavailableError).cause as FallbackExhaustedError).errors[1]?.error;

const OPEN_MS = 10_000;
const breaker = { failMax: 1, slidingWindow: { kind: 'count', size: 10 }, openDurationMs: OPEN_MS } as const;

/** A proxy to the shared server and the URL through it. */
async function proxied(): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(shared.url);
  const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port || 5432) } });
  target.host = `127.0.0.1:${proxy.port}`;
  return { proxy, url: target.toString() };
}

// The primary and the replica are the same shared server, each behind its own proxy, so the
// test can cut either and see which one a query reached.
describe.skipIf(!shared.available)('read failover and half-open probes', () => {
  let primary: { proxy: TcpProxy; url: string };
  let replica: { proxy: TcpProxy; url: string };

  beforeAll(async () => {
    primary = await proxied();
    replica = await proxied();
  });

  beforeEach(async () => {
    // The previous test's pools have ended; their sockets close a moment later.
    await waitFor(() => primary.proxy.connections + replica.proxy.connections === 0, 'earlier connections to close');
  });

  afterEach(async () => {
    await primary.proxy.mode('pass');
    await replica.proxy.mode('pass');
  });

  afterAll(async () => {
    await primary?.proxy.close();
    await replica?.proxy.close();
  });

  const withReplica = (extra: Parameters<typeof harness>[0] = {}) =>
    harness({ connectionString: primary.url, replica: { connectionString: replica.url }, breaker, ...extra });

  it('a read-only query is answered by the replica while the primary is down, and says so', async () => {
    const { db } = withReplica();
    await primary.proxy.mode('cut');
    const result = await db.query('SELECT $1::int AS n', [5], { readOnly: true });
    expect(result).toMatchObject({ rows: [{ n: 5 }], source: 'failover' });
  });

  it('once the circuit is open, read-only queries go to the replica at once', async () => {
    const { db, breaker: circuit } = withReplica();
    await primary.proxy.mode('cut');
    await reasonOf(db.query('SELECT 1'));
    expect(circuit.state).toBe('open');
    // A black-holed primary would hold a connection attempt for 2 s: the open circuit never tries.
    await primary.proxy.mode('blackhole');
    expect(await db.query('SELECT 2 AS n', [], { readOnly: true })).toMatchObject({
      rows: [{ n: 2 }],
      source: 'failover',
    });
    expect(primary.proxy.connections).toBe(0);
  });

  it('a write never fails over: the caller gets the primary’s error and the replica is not touched', async () => {
    const table = uniqueTable('db_client_failover');
    const admin = await adminClient();
    await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    try {
      const { db } = withReplica();
      await primary.proxy.mode('cut');
      expect(await reasonOf(db.query(`INSERT INTO ${table} (id) VALUES (1)`))).toMatchObject({
        code: 'ECONNREFUSED',
      });
      expect(await reasonOf(db.query(`UPDATE ${table} SET id = 2 WHERE id = 1`))).toBeInstanceOf(CircuitOpenError);
      expect(await reasonOf(db.transaction((tx) => tx.query(`INSERT INTO ${table} (id) VALUES (3)`)))).toBeInstanceOf(
        CircuitOpenError,
      );
      expect(replica.proxy.connections).toBe(0);
      expect((await admin.query(`SELECT count(*)::int AS n FROM ${table}`)).rows).toEqual([{ n: 0 }]);
    } finally {
      await admin.query(`DROP TABLE ${table}`);
    }
  });

  it('a transaction never fails over, not even when the primary fails while it runs', async () => {
    const { db } = withReplica();
    const error = await reasonOf(
      db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        await primary.proxy.mode('cut');
        await tx.query('SELECT 2');
      }),
    );
    expect(error).not.toBeInstanceOf(DbUnavailableError);
    expect(replica.proxy.connections).toBe(0);
  });

  it('the replica has its own circuit: a dead replica is shed too', async () => {
    const { db, sample } = withReplica();
    await primary.proxy.mode('cut');
    await replica.proxy.mode('cut');
    const first = await rejectionOf(db.query('SELECT 1', [], { readOnly: true }));
    expect(replicaError(first)).toMatchObject({ code: 'ECONNREFUSED' });
    expect(await sample('greenlang_circuit_breaker_state{circuit_name="database.postgres_replica"}')).toBe(1);
    // Black-holed now: a connection attempt would hang for 2 s; the open circuit never tries.
    await replica.proxy.mode('blackhole');
    const second = await rejectionOf(db.query('SELECT 1', [], { readOnly: true }));
    expect(second).toBeInstanceOf(DbUnavailableError);
    expect(replicaError(second)).toBeInstanceOf(CircuitOpenError);
    expect(replica.proxy.connections).toBe(0);
  });

  it('the replica call ends at the caller’s deadline (the circuit’s callTimeoutMs)', async () => {
    const { db, clock, breaker: circuit } = withReplica({ breaker: { ...breaker, callTimeoutMs: 8_000 } });
    circuit.forceOpen();
    await replica.proxy.mode('blackhole');
    const pending = rejectionOf(db.query('SELECT 1', [], { readOnly: true }));
    await waitFor(() => replica.proxy.connections === 1, 'the replica call to be under way');
    clock.advance(8_000);
    const error = await pending;
    expect(error).toBeInstanceOf(DbUnavailableError);
    expect(replicaError(error)).toBeInstanceOf(TimeoutError);
  });

  it('the replica pool is reported in greenlang_db_pool_connections{pool="replica"}', async () => {
    const { db, sample } = withReplica();
    await primary.proxy.mode('cut');
    await db.query('SELECT 1', [], { readOnly: true });
    expect(await sample('greenlang_db_pool_connections{pool="replica",state="total"}')).toBe(1);
    expect(await sample('greenlang_db_pool_connections{pool="replica",state="idle"}')).toBe(1);
    expect(await sample('greenlang_db_pool_connections{pool="primary",state="total"}')).toBe(0);
  });

  it('a caller’s mistake on the primary is not retried on the replica', async () => {
    const { db } = withReplica();
    expect(await reasonOf(db.query('SELECT 1/0', [], { readOnly: true }))).toMatchObject({
      code: 'DB_REQUEST_REJECTED',
      sqlState: '22012',
    });
    expect(replica.proxy.connections).toBe(0);
  });

  it('when the replica fails too, DbUnavailableError lists both errors', async () => {
    const { db } = withReplica();
    await primary.proxy.mode('cut');
    await replica.proxy.mode('cut');
    const error = await rejectionOf(db.query('SELECT 1', [], { readOnly: true }));
    expect(error).toBeInstanceOf(DbUnavailableError);
    expect(error).toMatchObject({
      code: 'DB_UNAVAILABLE',
      cause: {
        code: 'FALLBACK_EXHAUSTED',
        errors: [
          { source: 'live', upstream: 'database.postgres', error: { code: 'ECONNREFUSED' } },
          { source: 'failover', upstream: 'database.postgres_replica', error: { code: 'ECONNREFUSED' } },
        ],
      },
    });
  });

  it('with a probe, the half-open trial is SELECT 1 and the caller’s query runs on the closed circuit', async () => {
    const { db, clock, breaker: circuit, sample } = harness({ connectionString: primary.url, breaker, probe: true });
    const seen: string[] = [];
    circuit.onStateChange((change) => seen.push(change.to));
    await primary.proxy.mode('cut');
    await reasonOf(db.query('SELECT 1'));
    await primary.proxy.mode('pass');
    clock.advance(OPEN_MS);

    const result = await db.query('SELECT 42 AS answer');
    expect(result.rows).toEqual([{ answer: 42 }]);
    expect(seen).toEqual(['open', 'half_open', 'closed']);
    // The probe and the caller's query: two successes.
    expect(
      await sample('greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="success"}'),
    ).toBe(2);
  });

  it('with a probe, a failed trial reopens the circuit and the caller’s query is never sent', async () => {
    const { db, clock, breaker: circuit } = harness({ connectionString: primary.url, breaker, probe: true });
    await primary.proxy.mode('cut');
    await reasonOf(db.query('SELECT 1'));
    clock.advance(OPEN_MS);

    const error = await reasonOf(db.query('SELECT 1'));
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(circuit.state).toBe('open');
  });
});
