import { waitFor } from '@gl-vcci/breaker-core/testing';
import { describe, expect, it } from 'vitest';
import { harness, shared } from '../test/support.js';
import { DbPoolFullError, isDbPoolFullError } from './errors.js';

/** The value or the error of each call, in order. */
const settle = (calls: Array<Promise<unknown>>) =>
  Promise.all(
    calls.map((call) =>
      call.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
    ),
  );

describe.skipIf(!shared.available)('a saturated pool (issue 11 #6)', () => {
  it('a pool of 2 under many concurrent slow queries never opens the circuit: waiting for a slot is our saturation', async () => {
    const { db, breaker, clock, sample } = harness({ pool: { max: 2, connectionTimeoutMillis: 100 } });
    const calls = Array.from({ length: 10 }, () => db.query('SELECT pg_sleep(0.3)'));
    await waitFor(
      async () => (await sample('greenlang_db_pool_connections{pool="primary",state="waiting"}')) === 8,
      'eight callers waiting for a connection',
    );
    clock.advance(100); // connectionTimeoutMillis of waiting, on the registry's clock
    const results = await settle(calls);

    const refused = results.flatMap((r) => ('error' in r ? [r.error] : []));
    expect(refused).toHaveLength(8);
    expect(refused.every(isDbPoolFullError)).toBe(true);
    expect(refused[0]).toMatchObject({ code: 'DB_POOL_FULL', pool: 'primary', waitedMs: 100 });
    expect(breaker.state).toBe('closed');
    expect(
      await sample('greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="failure"}'),
    ).toBe(0);
  });

  it('callers beyond pool.maxWaiting are refused at once; those waiting are served as connections free up', async () => {
    const { db, breaker, sample } = harness({ pool: { max: 1, maxWaiting: 2 } });
    const calls = Array.from({ length: 3 }, () => db.query('SELECT pg_sleep(0.1)'));
    await waitFor(
      async () => (await sample('greenlang_db_pool_connections{pool="primary",state="waiting"}')) === 2,
      'two callers waiting',
    );
    const refused = await db.query('SELECT 1').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DbPoolFullError);
    expect(refused).toMatchObject({ code: 'DB_POOL_FULL', waitedMs: 0 });
    expect((await settle(calls)).every((r) => 'value' in r)).toBe(true);
    expect(breaker.state).toBe('closed');
    expect(await sample('greenlang_db_pool_connections{pool="primary",state="total"}')).toBe(1);
  });
});
