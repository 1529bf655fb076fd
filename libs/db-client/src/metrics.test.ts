import { BreakerRegistry } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { harness, rejectionOf, shared } from '../test/support.js';
import { createDbClient } from './client.js';

const BOUNDS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '+Inf'];

/** The text prom-client prints for one histogram series with these observations (in seconds). */
function series(name: string, outcome: string, observations: number[]): string[] {
  const labels = `name="${name}",outcome="${outcome}"`;
  const metric = 'greenlang_db_query_duration_seconds';
  const sum = observations.reduce((a, b) => a + b, 0);
  return [
    ...BOUNDS.map((le) => {
      const count = observations.filter((seconds) => le === '+Inf' || seconds <= Number(le)).length;
      return `${metric}_bucket{le="${le}",${labels}} ${count}`;
    }),
    `${metric}_sum{${labels}} ${sum}`,
    `${metric}_count{${labels}} ${observations.length}`,
  ];
}

describe.skipIf(!shared.available)('metrics', () => {
  it('after a scripted run, the metrics text is exactly what happened', async () => {
    const { db, clock, breaker, metric } = harness({ pool: { max: 1 } });
    const slow = db.query('SELECT 1', [], { name: 'lookup' });
    clock.advance(30); // the query "takes" 30 ms on the client's clock
    await slow;
    await db.query('SELECT 1', [], { name: 'lookup' });
    await rejectionOf(db.query('SELECT 1/0', [], { name: 'divide' }));
    await db.query('SELECT 1');
    breaker.forceOpen();
    await rejectionOf(db.query('SELECT 1', [], { name: 'lookup' }));

    expect(await metric('greenlang_db_query_duration_seconds')).toBe(
      [
        '# HELP greenlang_db_query_duration_seconds Duration of database queries by caller-given name and outcome, in seconds',
        '# TYPE greenlang_db_query_duration_seconds histogram',
        ...series('lookup', 'success', [0.03, 0]),
        ...series('divide', 'error', [0]),
        ...series('unnamed', 'success', [0]),
        ...series('lookup', 'rejected', [0]),
      ].join('\n'),
    );
    expect(await metric('greenlang_db_pool_connections')).toBe(
      [
        '# HELP greenlang_db_pool_connections Connections of the PostgreSQL pools (primary, replica): total open, idle, and callers waiting for one',
        '# TYPE greenlang_db_pool_connections gauge',
        'greenlang_db_pool_connections{pool="primary",state="total"} 1',
        'greenlang_db_pool_connections{pool="primary",state="idle"} 1',
        'greenlang_db_pool_connections{pool="primary",state="waiting"} 0',
      ].join('\n'),
    );
    expect(await metric('greenlang_db_connection_errors_total')).toBe(
      [
        '# HELP greenlang_db_connection_errors_total Connections that failed under the pool: idle in the pool, or held by a caller (transaction, withClient)',
        '# TYPE greenlang_db_connection_errors_total counter',
        'greenlang_db_connection_errors_total{state="idle"} 0',
        'greenlang_db_connection_errors_total{state="held"} 0',
      ].join('\n'),
    );
    const calls = (await metric('greenlang_circuit_breaker_calls_total')).split('\n').slice(2);
    expect(calls).toEqual([
      'greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="success"} 3',
      'greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="failure"} 0',
      'greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="rejected"} 1',
      'greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="ignored"} 1',
      'greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="timeout"} 0',
    ]);
  });

  it('two clients on one registry share the circuit and add their pools up in the gauge', async () => {
    const prom = new Registry();
    const registry = new BreakerRegistry({ metrics: { registry: prom }, logger: silentLogger() });
    const a = createDbClient({ connectionString: shared.url, registry });
    const b = createDbClient({ connectionString: shared.url, registry, replica: { connectionString: shared.url } });
    try {
      await a.withClient(() => b.withClient(() => Promise.resolve()));
      const text = await prom.getSingleMetricAsString('greenlang_db_pool_connections');
      expect(text).toContain('greenlang_db_pool_connections{pool="primary",state="total"} 2');
      // b's replica pool has opened nothing yet, and a has none: one replica series set, at 0.
      expect(text).toContain('greenlang_db_pool_connections{pool="replica",state="total"} 0');
      expect(registry.breakers().map((breaker) => breaker.name)).toEqual([
        'database.postgres',
        'database.postgres_replica',
      ]);
      await a.close();
      expect(await prom.getSingleMetricAsString('greenlang_db_pool_connections')).toContain(
        'greenlang_db_pool_connections{pool="primary",state="total"} 1',
      );
      await b.close();
      // No client with a replica left: no replica series.
      expect(await prom.getSingleMetricAsString('greenlang_db_pool_connections')).not.toContain('pool="replica"');
    } finally {
      await Promise.all([a.close(), b.close()]);
      registry.close();
    }
  });
});
