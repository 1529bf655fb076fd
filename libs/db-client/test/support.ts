import { randomUUID } from 'node:crypto';
import type { BreakerRegistry, CircuitBreaker, FallbackExhaustedError, Logger } from '@gl-vcci/breaker-core';
import { type ManualClock, sampleValue, testRegistry } from '@gl-vcci/breaker-core/testing';
import { sharedServer } from '@gl-vcci/upstreams/servers';
import pg from 'pg';
import type { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import { createDbClient, type DbClient, type DbClientOptions, isDbUnavailableError } from '../src/index.js';

/** The shared PostgreSQL of this machine (DATABASE_URL overrides); `available` false: skip, outside CI only. */
export const shared = await sharedServer('PostgreSQL', 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/test');

export interface Harness {
  db: DbClient;
  breaker: CircuitBreaker;
  clock: ManualClock;
  prom: Registry;
  registry: BreakerRegistry;
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
 * A client on its own registry (breaker-core's testRegistry: a manual clock, its own prom-client
 * registry), closed after the test. `config` is YAML text. Breaker settings default to a small
 * count window so tests trip it in a few calls.
 */
export function harness(
  options: Partial<Omit<DbClientOptions, 'registry'>> & { config?: string; logger?: Logger } = {},
): Harness {
  const { config, logger, ...rest } = options;
  // The circuit and the query durations run on its clock: metric text is exact, and no test reads real durations.
  const { registry, prom, clock } = testRegistry({
    ...(config === undefined ? {} : { config }),
    ...(logger === undefined ? {} : { logger }),
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
  // `name{a="x",b="y"}` as the test reads it, looked up with breaker-core's sampleValue.
  const sample = async (series: string) => {
    const [name, labelText = ''] = series.replace(/}$/, '').split('{');
    const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const value = await sampleValue(prom, name!, labels);
    if (value === undefined) throw new Error(`no sample ${series}`);
    return value;
  };
  return { db, breaker: registry.get('database.postgres')!, clock, prom, registry, appName, metric, sample };
}

/** A plain pg client for what the test itself needs (pg_stat_activity, pg_terminate_backend, fixtures). */
export async function adminClient(url = shared.url): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'db-client-test-admin' });
  client.on('error', () => {});
  await client.connect();
  open.push(() => client.end().catch(() => {}));
  return client;
}

/**
 * Why a call was refused: for a DbUnavailableError (the database could not serve it) the first
 * server's own error (CircuitOpenError, TimeoutError, pg's error), else the error itself.
 */
export async function reasonOf(promise: Promise<unknown>): Promise<unknown> {
  return reasonFrom(await rejectionOf(promise));
}

export function reasonFrom(error: unknown): unknown {
  return isDbUnavailableError(error) ? (error.cause as FallbackExhaustedError).errors[0]!.error : error;
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
