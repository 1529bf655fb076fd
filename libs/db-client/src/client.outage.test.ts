import { CircuitOpenError } from '@gl-vcci/breaker-core';
import { waitFor } from '@gl-vcci/breaker-core/testing';
import { type PostgresServer, startPostgres } from '@gl-vcci/upstreams/postgres-server';
import { answers } from '@gl-vcci/upstreams/servers';
import { startTcpProxy, type TcpProxy } from '@gl-vcci/upstreams/tcp-proxy';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, harness, reasonFrom, reasonOf, rejectionOf, shared } from '../test/support.js';
import { classifyPgError } from './classify.js';
import { isDbUnavailableError } from './errors.js';

const FAIL_MAX = 3;
const OPEN_MS = 10_000;
const breaker = { failMax: FAIL_MAX, slidingWindow: { kind: 'count', size: 10 }, openDurationMs: OPEN_MS } as const;

// Outages are made on a server of our own: the shared one is never stopped.
describe('createDbClient when its own PostgreSQL goes away', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres({ maxConnections: 6, settings: { superuser_reserved_connections: 0 } });
  });

  afterEach(async () => {
    if (!(await answers(server.host, server.port))) await server.start();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('a server killed mid-load opens the circuit within failMax failures, without a crash or a stuck pool', async () => {
    const concurrency = 4;
    const { db, sample, breaker: circuit } = harness({ connectionString: server.url, pool: { max: 3 }, breaker });
    let served = 0;
    const failures: unknown[] = [];
    let rejected = 0;
    const worker = async () => {
      // Bounded: the loop ends once this worker is turned away by the open circuit.
      for (let i = 0; i < 10_000; i++) {
        try {
          await db.query('SELECT 1');
          served++;
        } catch (error) {
          if (reasonFrom(error) instanceof CircuitOpenError) {
            rejected++;
            return;
          }
          failures.push(reasonFrom(error));
        }
      }
    };
    const load = Promise.all(Array.from({ length: concurrency }, worker));
    await waitFor(() => served >= 50, 'the load to run');
    await server.kill();
    await load;

    expect(circuit.state).toBe('open');
    expect(rejected).toBe(concurrency);
    // The calls in flight when it trips still fail on their own: at most one per other worker.
    expect(failures.length).toBeGreaterThanOrEqual(FAIL_MAX);
    expect(failures.length).toBeLessThanOrEqual(FAIL_MAX + concurrency - 1);
    expect(failures.map(classifyPgError)).toEqual(failures.map(() => 'failure'));
    await waitFor(
      async () => (await sample('greenlang_db_pool_connections{pool="primary",state="total"}')) === 0,
      'dead clients out',
    );
    expect(await sample('greenlang_db_pool_connections{pool="primary",state="waiting"}')).toBe(0);
  });

  it('after a restart, the first call past the open duration is a trial that closes the circuit', async () => {
    const { db, clock, breaker: circuit } = harness({ connectionString: server.url, breaker });
    const transitions: string[] = [];
    circuit.onStateChange((change) => transitions.push(`${change.from}->${change.to}`));
    await db.query('SELECT 1');
    await server.stop('fast');
    for (let i = 0; i < FAIL_MAX; i++) await reasonOf(db.query('SELECT 1'));
    expect(circuit.state).toBe('open');
    await server.start();
    expect(await reasonOf(db.query('SELECT 1'))).toBeInstanceOf(CircuitOpenError);

    clock.advance(OPEN_MS);
    expect((await db.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    expect(circuit.state).toBe('closed');
    expect(transitions).toEqual(['closed->open', 'open->half_open', 'half_open->closed']);
  });

  it('a query the database cannot serve is a DbUnavailableError, whatever the reason, naming the circuit', async () => {
    const { db } = harness({ connectionString: 'postgres://postgres@127.0.0.1:9/test' }); // nothing listens
    const refused = await rejectionOf(db.query('SELECT 1'));
    expect(isDbUnavailableError(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/live database\.postgres \(connect ECONNREFUSED/);
    await rejectionOf(db.query('SELECT 1'));
    await rejectionOf(db.query('SELECT 1')); // failMax 3: the circuit opens
    const rejected = await rejectionOf(db.query('SELECT 1'));
    expect(isDbUnavailableError(rejected)).toBe(true);
    expect(reasonFrom(rejected)).toBeInstanceOf(CircuitOpenError);
  });

  it('too many connections (53300) trips the circuit', async () => {
    const hogs: pg.Client[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const hog = new pg.Client(server.url);
        hog.on('error', () => {});
        await hog.connect();
        hogs.push(hog);
      }
      const { db, breaker: circuit } = harness({ connectionString: server.url, breaker });
      for (let i = 0; i < FAIL_MAX; i++) {
        expect(await reasonOf(db.query('SELECT 1'))).toMatchObject({ code: '53300' });
      }
      expect(circuit.state).toBe('open');
      expect(await reasonOf(db.query('SELECT 1'))).toBeInstanceOf(CircuitOpenError);
    } finally {
      await Promise.all(hogs.map((hog) => hog.end()));
    }
  });

  it('a shutdown in progress (57P03 for new connections) counts as unavailable', async () => {
    const session = new pg.Client(server.url);
    session.on('error', () => {});
    await session.connect();
    // A smart shutdown waits for the open session and refuses new ones meanwhile.
    const stopping = server.stop('smart');
    // maxUses 1: every call opens a new connection, as callers arriving during the shutdown would.
    const { db, sample } = harness({ connectionString: server.url, pool: { maxUses: 1 }, breaker });
    let error: unknown;
    await waitFor(async () => {
      error = await db.query('SELECT 1').then(
        () => undefined,
        (e: unknown) => reasonFrom(e),
      );
      return (error as { code?: string } | undefined)?.code === '57P03';
    }, 'the server to refuse new connections');
    expect(classifyPgError(error)).toBe('failure');
    expect(
      await sample('greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="failure"}'),
    ).toBeGreaterThanOrEqual(1);
    await session.end();
    await stopping;
  });
});

describe.skipIf(!shared.available)('createDbClient behind a faulty network (TCP proxy to the shared server)', () => {
  let proxy: TcpProxy;
  let url: string;

  beforeAll(async () => {
    const target = new URL(shared.url);
    proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port || 5432) } });
    target.host = `127.0.0.1:${proxy.port}`;
    url = target.toString();
  });

  afterEach(async () => {
    await proxy.mode('pass');
  });

  afterAll(async () => {
    await proxy?.close();
  });

  it('a black-holed server fails the call at connectionTimeoutMillis instead of hanging', async () => {
    const { db, sample } = harness({ connectionString: url, pool: { connectionTimeoutMillis: 300 } });
    await proxy.mode('blackhole');
    const error = await reasonOf(db.query('SELECT 1'));
    expect(error).toMatchObject({ message: 'Connection terminated due to connection timeout' });
    expect(
      await sample('greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="failure"}'),
    ).toBe(1);
  });

  it('a connection black-holed mid-statement fails at query_timeout and is destroyed', async () => {
    const { db, sample } = harness({
      connectionString: url,
      pool: { max: 1, statement_timeout: 200, query_timeout: 400, connectionTimeoutMillis: 300 },
    });
    await db.query('SELECT 1');
    await proxy.mode('blackhole');
    expect(await reasonOf(db.query('SELECT 2'))).toMatchObject({ message: 'Query read timeout' });
    expect(await sample('greenlang_db_pool_connections{pool="primary",state="total"}')).toBe(0);
  });

  it('an open circuit rejects at once with CircuitOpenError, without asking the pool for a connection', async () => {
    const { db } = harness({ connectionString: url, breaker: { ...breaker, failMax: 1 } });
    await proxy.mode('cut');
    expect(classifyPgError(await reasonOf(db.query('SELECT 1')))).toBe('failure');
    // A black hole now would hold any connection attempt for 2 s: the rejection must not try.
    await proxy.mode('blackhole');
    const error = await reasonOf(db.query('SELECT 1'));
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(proxy.connections).toBe(0);
  });

  it('the server never sees a statement from a rejected call', async () => {
    const { db, appName } = harness({ connectionString: url, breaker: { ...breaker, failMax: 1 } });
    await proxy.mode('cut');
    await reasonOf(db.query('SELECT 1'));
    await proxy.mode('pass');
    await reasonOf(db.query('SELECT 1'));
    const admin = await adminClient();
    const seen = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [
      appName,
    ]);
    expect(seen.rows).toEqual([{ n: 0 }]);
  });
});
