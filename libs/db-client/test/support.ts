import { randomUUID } from 'node:crypto';
import { BreakerRegistry, type CircuitBreaker, type LoadedConfig } from '@gl-vcci/breaker-core';
import { ManualClock, silentLogger } from '@gl-vcci/breaker-core/testing';
import { sharedServer } from '@gl-vcci/upstreams/servers';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import { createDbClient, type DbClient, type DbClientOptions } from '../src/index.js';

/** The shared PostgreSQL of this machine (DATABASE_URL overrides); `available` false: skip, outside CI only. */
export const shared = await sharedServer('PostgreSQL', 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/test');

export interface Harness {
  db: DbClient;
  breaker: CircuitBreaker;
  clock: ManualClock;
  prom: Registry;
  /** The application_name of this client's connections, to find them in pg_stat_activity. */
  appName: string;
  metric(name: string): Promise<string>;
  /** One sample's value from the metrics text, e.g. `sample('greenlang_db_pool_connections{state="total"}')`. */
  sample(series: string): Promise<number>;
}

const open: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

/**
 * A client on its own prom-client and breaker registries with a manual clock, closed after the
 * test. Breaker settings default to a small count window so tests trip it in a few calls.
 */
export function harness(
  options: Partial<Omit<DbClientOptions, 'registry'>> & { config?: LoadedConfig; metrics?: boolean } = {},
): Harness {
  const { config, metrics = true, ...rest } = options;
  // The circuit and the query durations run on it: metric text is exact, and no test reads real durations.
  const clock = new ManualClock(1_000_000);
  const prom = new Registry();
  const registry = new BreakerRegistry({
    config,
    metrics: metrics ? { registry: prom } : false,
    logger: silentLogger(),
    clock,
  });
  const appName = `db-client-test-${randomUUID().slice(0, 8)}`;
  const db = createDbClient({
    connectionString: shared.url,
    ...rest,
    pool: { application_name: appName, ...rest.pool },
    breaker: config ? rest.breaker : { failMax: 3, slidingWindow: { kind: 'count', size: 10 }, ...rest.breaker },
    registry,
  });
  open.push(async () => {
    await db.close();
    registry.close();
  });
  const metric = async (name: string) => (await prom.getSingleMetricAsString(name)).trim();
  const sample = async (series: string) => {
    const name = series.split('{')[0]!;
    const line = (await metric(name)).split('\n').find((l) => l.startsWith(`${series} `));
    if (line === undefined) throw new Error(`no sample ${series}`);
    return Number(line.slice(series.length + 1));
  };
  return { db, breaker: registry.get('database.postgres')!, clock, prom, appName, metric, sample };
}

/** A plain pg client for what the test itself needs (pg_stat_activity, pg_terminate_backend, fixtures). */
export async function adminClient(url = shared.url): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'db-client-test-admin' });
  client.on('error', () => {});
  await client.connect();
  open.push(() => client.end().catch(() => {}));
  return client;
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got a value');
}

/** A table name of its own per test, so suites can run in parallel on the shared database. */
export function uniqueTable(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}
