import { fileURLToPath } from 'node:url';
import { BreakerRegistry, ConfigError, loadConfig } from '@gl-vcci/breaker-core';
import { silentLogger, waitFor } from '@gl-vcci/breaker-core/testing';
import { describe, expect, it } from 'vitest';
import { harness, rejectionOf, shared } from '../test/support.js';
import { createDbClient } from './client.js';
import { DbArgumentError } from './errors.js';
import type { DbClientOptions } from './types.js';

const registry = () => new BreakerRegistry({ metrics: false, logger: silentLogger() });
const url = 'postgres://postgres@127.0.0.1:5432/test';

function optionsError(options: Partial<DbClientOptions>): ConfigError {
  try {
    createDbClient({ registry: registry(), ...options } as DbClientOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected createDbClient to throw');
}

const yamlText = (postgres: string) => `database:\n  postgres:\n${postgres.replace(/^/gm, '    ')}\n`;
const yaml = (postgres: string) => loadConfig(yamlText(postgres), { environment: 'development' });

describe('createDbClient options', () => {
  it('refuses options with neither connectionString nor pool', () => {
    const error = optionsError({});
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toBe('createDbClient: connectionString: expected connectionString or pool, got nothing');
  });

  it('refuses connectionTimeoutMillis 0, which would wait forever', () => {
    expect(optionsError({ connectionString: url, pool: { connectionTimeoutMillis: 0 } }).issues).toEqual([
      {
        path: 'pool.connectionTimeoutMillis',
        message: 'expected a positive number of ms (0 would wait forever), got 0',
      },
    ]);
  });

  it('refuses a pool without statement_timeout', () => {
    expect(optionsError({ connectionString: url, pool: { statement_timeout: false } }).issues).toEqual([
      {
        path: 'pool.statement_timeout',
        message: 'expected a positive number of ms (none would let a statement run forever), got false',
      },
    ]);
  });

  it('refuses a query_timeout that would fire before the server cancels the statement', () => {
    expect(
      optionsError({ connectionString: url, pool: { statement_timeout: 1000, query_timeout: 1000 } }).issues,
    ).toEqual([
      {
        path: 'pool.query_timeout',
        message: 'expected more than statement_timeout (1000 ms) so the server cancels first, got 1000',
      },
    ]);
  });

  it('refuses pool timeouts that the circuit’s deadline from circuit_breaker_config.yaml would cut short', () => {
    const error = optionsError({
      connectionString: url,
      registry: new BreakerRegistry({ config: yaml('call_timeout: 1'), metrics: false, logger: silentLogger() }),
    });
    expect(error.issues).toEqual([
      {
        path: 'pool.query_timeout',
        message:
          "expected connectionTimeoutMillis (2000 ms) + query_timeout + 500 ms within the circuit's deadline (1000 ms, from database.postgres.call_timeout), got 3500",
      },
    ]);
  });

  it('refuses pool timeouts whose sum outlasts the deadline, though each is shorter (a slow statement after a pool wait)', () => {
    // 2000 + 3500 + 500 > 5000: a statement that waited 1.99 s for a connection would end as a circuit timeout.
    const error = optionsError({
      connectionString: url,
      registry: new BreakerRegistry({ config: yaml('call_timeout: 5'), metrics: false, logger: silentLogger() }),
    });
    expect(error.issues).toEqual([
      {
        path: 'pool.query_timeout',
        message:
          "expected connectionTimeoutMillis (2000 ms) + query_timeout + 500 ms within the circuit's deadline (5000 ms, from database.postgres.call_timeout), got 3500",
      },
    ]);
    expect(
      optionsError({ connectionString: url, replica: { connectionString: url }, breaker: { callTimeoutMs: 5_000 } })
        .issues,
    ).toEqual([
      expect.objectContaining({ path: 'pool.query_timeout' }),
      expect.objectContaining({ path: 'replica.pool.query_timeout' }),
    ]);
  });

  it('accepts the repository’s circuit_breaker_config.yaml with the default pool timeouts', async () => {
    const config = loadConfig(fileURLToPath(new URL('../../../config/circuit_breaker_config.yaml', import.meta.url)), {
      environment: 'production',
    });
    const registry = new BreakerRegistry({ config, metrics: false, logger: silentLogger() });
    const db = createDbClient({ connectionString: url, registry });
    // The file's circuit, with its own deadline (call_timeout: 6), and production's pool size (50).
    expect(registry.get('database.postgres')?.config).toMatchObject({ callTimeoutMs: 6_000, failMax: 10 });
    expect(db.status().pools.primary).toMatchObject({ max: 50 });
    await db.close();
  });

  it('refuses unknown options and breaker settings that would replace the classifier', () => {
    const error = optionsError({
      connectionString: url,
      connectionstring: url,
      breaker: { classify: () => 'failure' },
    } as Partial<DbClientOptions>);
    expect(error.issues).toEqual([
      { path: 'breaker.classify', message: 'expected nothing (the client owns it), got a function' },
      { path: '', message: 'Unrecognized key: "connectionstring"' },
    ]);
  });

  it('refuses a typo among the pool settings, naming the unknown key (issue 11 #12)', () => {
    expect(optionsError({ connectionString: url, pool: { maxx: 2 } as never }).issues).toEqual([
      { path: 'pool', message: 'Unrecognized key: "maxx"' },
    ]);
    expect(
      optionsError({ connectionString: url, replica: { pool: { statement_timout: 1_000 } as never } }).issues,
    ).toEqual([{ path: 'replica.pool', message: 'Unrecognized key: "statement_timout"' }]);
  });

  it('refuses a connectionString that is not a postgres URL at creation, without echoing it (issue 11 #12)', () => {
    const error = optionsError({ connectionString: 'not a url' });
    expect(error.issues).toEqual([
      {
        path: 'connectionString',
        message: 'expected a postgres:// or postgresql:// URL, got a string that is not a URL (not shown)',
      },
    ]);
    expect(error.message).not.toContain('not a url');
  });

  it('names the replica’s fields apart from the primary’s', () => {
    expect(optionsError({ connectionString: url, replica: { connectionString: '' } }).issues).toEqual([
      {
        path: 'replica.connectionString',
        message: 'expected a postgres:// or postgresql:// URL, got a string that is not a URL (not shown)',
      },
    ]);
  });

  it('a second client on the registry shares the circuit when its breaker settings match, and is refused when they differ', async () => {
    const shared = registry();
    const first = createDbClient({ connectionString: url, registry: shared, breaker: { failMax: 3 } });
    const second = createDbClient({ connectionString: url, registry: shared, breaker: { failMax: 3 } });
    try {
      expect(shared.breakers().map((breaker) => breaker.name)).toEqual(['database.postgres']);
      const error = rejectionOf(
        (async () => createDbClient({ connectionString: url, registry: shared, breaker: { failMax: 5 } }))(),
      );
      expect(await error).toBeInstanceOf(ConfigError);
      expect(await error).toMatchObject({ issues: [{ path: 'failMax' }] });
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('gives the circuit a deadline beyond the pool’s own timeouts when the config sets none', () => {
    const { breaker } = harness({ breaker: {} });
    // connectionTimeoutMillis 2000 + query_timeout 3500 + 500
    expect(breaker.config.callTimeoutMs).toBe(6_000);
  });

  it('counts a call as slow from the statement timeout on, unless the config says otherwise', () => {
    expect(harness({ pool: { statement_timeout: 1_500 } }).breaker.config.slowCallDurationMs).toBe(1_500);
    expect(harness({ config: yamlText('slow_call_duration: 0.5') }).breaker.config.slowCallDurationMs).toBe(500);
  });

  it.skipIf(!shared.available)('sizes the pool from connection_pool_size in circuit_breaker_config.yaml', async () => {
    const { db, sample } = harness({ config: yamlText('connection_pool_size: 2') });
    const queries = [1, 2, 3].map(() => db.query('SELECT pg_sleep(0.2)'));
    await waitFor(
      async () => (await sample('greenlang_db_pool_connections{pool="primary",state="waiting"}')) === 1,
      'a waiter',
    );
    expect(await sample('greenlang_db_pool_connections{pool="primary",state="total"}')).toBe(2);
    await Promise.all(queries);
  });
});

describe('query arguments', () => {
  it('empty SQL is refused with DbArgumentError naming text, before the circuit sees it', async () => {
    const { db, sample } = harness();
    const error = await rejectionOf(db.query('  '));
    expect(error).toBeInstanceOf(DbArgumentError);
    expect(error).toMatchObject({
      code: 'DB_INVALID_ARGUMENT',
      message: 'text: expected a non-empty SQL string, got "  "',
    });
    expect(
      await sample('greenlang_circuit_breaker_calls_total{circuit_name="database.postgres",status="ignored"}'),
    ).toBe(0);
  });

  it('params that are not an array and unknown options are refused, each named', async () => {
    const { db } = harness();
    const error = await rejectionOf(db.query('SELECT $1', 'x' as never, { name: 'q', retries: 3 } as never));
    expect(error).toMatchObject({
      issues: [
        { path: 'params', message: 'expected an array of parameters, got "x"' },
        { path: 'options', message: 'Unrecognized key: "retries"' },
      ],
    });
  });

  it('a metric name that is not a plain label (SQL, say) is refused', async () => {
    const { db } = harness();
    expect(await rejectionOf(db.query('SELECT 1', [], { name: 'SELECT 1' }))).toMatchObject({
      issues: [
        {
          path: 'options.name',
          message: 'expected a label of letters, digits, _ . : - (at most 100), never SQL, got "SELECT 1"',
        },
      ],
    });
  });

  it('timeoutMs can shorten the statement timeout, not lengthen it', async () => {
    const { db } = harness();
    expect(await rejectionOf(db.query('SELECT 1', [], { timeoutMs: 10_000 }))).toMatchObject({
      message: "options.timeoutMs: expected at most the pool's statement_timeout (3000 ms), got 10000",
    });
  });

  it('transaction needs a function', async () => {
    const { db } = harness();
    expect(await rejectionOf(db.transaction('BEGIN' as never))).toMatchObject({
      message: 'fn: expected a function, got string',
    });
  });
});
