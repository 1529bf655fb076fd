import { inspect } from 'node:util';
import { BreakerRegistry, ConfigError } from '@gl-vcci/breaker-core';
import { capturingLogger, silentLogger } from '@gl-vcci/breaker-core/testing';
import { describe, expect, it } from 'vitest';
import { harness, reasonFrom, rejectionOf, shared } from '../test/support.js';
import { createDbClient } from './client.js';
import { isDbRequestError, isDbUnavailableError } from './errors.js';
import type { DbClientOptions } from './types.js';

const SECRET = 'hunter2-s3cret';

/** The shared server's URL as `user` with the secret as password (the server trusts, so any password passes). */
function urlAs(user: string, port?: number): string {
  const url = new URL(shared.url);
  url.username = user;
  url.password = SECRET;
  if (port !== undefined) url.port = String(port);
  return url.toString();
}

function optionsError(options: Record<string, unknown>): unknown {
  try {
    createDbClient({
      registry: new BreakerRegistry({ metrics: false, logger: silentLogger() }),
      ...options,
    } as DbClientOptions);
  } catch (error) {
    return error;
  }
  throw new Error('expected createDbClient to throw');
}

describe('passwords never shown (issue 11 #1)', () => {
  it('option errors name the field and never echo a URL or password', () => {
    const errors = [
      optionsError({ connectionString: urlAs('app'), pool: urlAs('app') }),
      optionsError({ connectionString: urlAs('app'), replica: urlAs('app') }),
      optionsError({ connectionString: `not a url ${SECRET}` }),
      optionsError({ connectionString: urlAs('app').replace('postgres:', 'mysql:') }),
      optionsError({ pool: { host: '127.0.0.1', password: 42, passwrd: SECRET } }),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(inspect(error, { depth: null })).not.toContain(SECRET);
    }
    expect((errors[0] as ConfigError).issues).toEqual([
      { path: 'pool', message: 'expected an object of pg Pool settings, got string (not shown)' },
    ]);
  });

  it.skipIf(!shared.available)('errors thrown after real failures hold no password, whatever failed', async () => {
    const refused = harness({ connectionString: urlAs('postgres', 1), breaker: { failMax: 1 } });
    const live = harness({ connectionString: urlAs('postgres') });
    const withPoolPassword = harness({
      connectionString: undefined,
      pool: { host: '127.0.0.1', port: 1, user: 'postgres', password: SECRET },
    });
    const failover = harness({
      connectionString: urlAs('postgres', 1),
      replica: { connectionString: urlAs('postgres', 2) },
    });
    const thrown = [
      await rejectionOf(refused.db.query('SELECT 1')), // ECONNREFUSED
      await rejectionOf(refused.db.query('SELECT 1')), // CircuitOpenError, the last failure as cause
      await rejectionOf(live.db.query('SELEC 1')), // DbRequestError
      await rejectionOf(live.db.transaction(async (tx) => tx.query('SELECT 1/0'))),
      await rejectionOf(withPoolPassword.db.query('SELECT 1')),
      await rejectionOf(failover.db.query('SELECT 1', [], { readOnly: true })), // DbUnavailableError
    ];
    expect(isDbRequestError(thrown[2])).toBe(true);
    expect(isDbUnavailableError(thrown[5])).toBe(true);
    for (const error of thrown) expect(inspect(error, { depth: null })).not.toContain(SECRET);
  });
});

describe.skipIf(!shared.available)('credentials refused (issue 11 #11)', () => {
  it('are the deployment’s failure: they count against the circuit and are logged at error level naming it', async () => {
    const { logger, lines } = capturingLogger();
    const { db, breaker } = harness({ connectionString: urlAs('no_such_role_db_client'), logger });
    for (let i = 0; i < 3; i++) {
      expect(reasonFrom(await rejectionOf(db.query('SELECT 1')))).toMatchObject({ code: '28000' });
    }
    expect(breaker.state).toBe('open');
    const refused = lines.filter((l) => String(l.msg).startsWith('credentials refused by database.postgres'));
    expect(refused).toHaveLength(3);
    expect(refused[0]).toMatchObject({ level: 50, error: { code: '28000' } });
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });
});
