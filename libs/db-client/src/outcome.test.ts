import { flushPromises } from '@gl-vcci/breaker-core/testing';
import { type PostgresServer, startPostgres } from '@gl-vcci/upstreams/postgres-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, rejectionOf } from '../test/support.js';
import { isDbClosedError, isDbPoolFullError, isDbUnavailableError } from './errors.js';

// Issue 18: an error that may hide a completed write says `outcome: 'unknown'`; one that never left
// the client says `not_sent`. Outages are made on a throwaway server (SIGSTOP), never the shared one.

const DEADLINE_MS = 6_000; // the least db-client accepts: connect 2 s + query_timeout 3.5 s + 0.5 s
const breaker = { failMax: 1, slidingWindow: { kind: 'count', size: 10 }, callTimeoutMs: DEADLINE_MS } as const;

describe('the outcome of a failed call', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('is unknown for an INSERT sent to a server that froze: it commits when the server resumes', async () => {
    const { db, clock } = harness({ connectionString: server.url, breaker });
    await db.query('CREATE TABLE IF NOT EXISTS outcome_probe (id int PRIMARY KEY)');
    await db.query('DELETE FROM outcome_probe');
    server.pause();
    let error: unknown;
    try {
      const pending = rejectionOf(db.query('INSERT INTO outcome_probe VALUES (1)'));
      await flushPromises();
      clock.advance(DEADLINE_MS);
      error = await pending;
    } finally {
      server.resume();
    }
    expect(isDbUnavailableError(error)).toBe(true);
    expect(error).toMatchObject({ outcome: 'unknown' });
    expect((error as Error).message).toContain('its outcome is unknown');
    // The write the caller saw fail did happen: why a blind retry would write it twice.
    const { db: reader } = harness({ connectionString: server.url });
    let rows: unknown[] = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      rows = (await reader.query('SELECT id FROM outcome_probe')).rows;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(rows).toEqual([{ id: 1 }]);
  });

  it('is not_sent when the circuit refused the call', async () => {
    const { db, breaker: circuit } = harness({ connectionString: server.url, breaker });
    circuit.forceOpen();
    const error = await rejectionOf(db.query('INSERT INTO outcome_probe VALUES (2)'));
    expect(isDbUnavailableError(error)).toBe(true);
    expect(error).toMatchObject({ outcome: 'not_sent' });
  });

  it('is not_sent when the pool was full', async () => {
    const { db } = harness({ connectionString: server.url, pool: { max: 1, maxWaiting: 0 } });
    const holding = db.query('SELECT pg_sleep(0.2)');
    await flushPromises();
    const error = await rejectionOf(db.query('SELECT 1'));
    expect(isDbPoolFullError(error)).toBe(true);
    expect(error).toMatchObject({ outcome: 'not_sent' });
    await holding;
  });

  it('is unknown for a statement close() cut after it was sent', async () => {
    const { db, clock } = harness({ connectionString: server.url });
    await db.query('SELECT 1');
    server.pause();
    try {
      const running = rejectionOf(db.query('SELECT 1'));
      await flushPromises();
      const closing = db.close({ timeoutMs: 100 });
      const error = await running;
      expect(isDbClosedError(error)).toBe(true);
      expect(error).toMatchObject({ outcome: 'unknown' });
      clock.advance(100);
      await closing;
    } finally {
      server.resume();
    }
  });
});
