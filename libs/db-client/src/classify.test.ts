import { freePort } from '@gl-vcci/upstreams/servers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shared } from '../test/support.js';
import { classifyPgError } from './classify.js';
import { DbPoolFullError } from './errors.js';
import { fromPg } from './pg-errors.js';

/** A server error as pg builds it (pg-protocol's DatabaseError: SQLSTATE in `code`, and a severity). */
function sqlState(code: string, severity = 'ERROR'): Error {
  return Object.assign(new pg.DatabaseError(`server says ${code}`, 0, 'error'), { code, severity });
}

/** A Node.js socket error. */
function system(code: string, syscall = 'connect'): Error {
  return Object.assign(new Error(`${syscall} ${code}`), { code, syscall, errno: -1 });
}

describe('classifyPgError: the failure table', () => {
  it.each([
    ['ECONNREFUSED', system('ECONNREFUSED')],
    ['ECONNRESET', system('ECONNRESET', 'read')],
    ['ETIMEDOUT', system('ETIMEDOUT')],
    ['EPIPE', system('EPIPE', 'write')],
    ['EHOSTUNREACH', system('EHOSTUNREACH')],
    ['ENOTFOUND', system('ENOTFOUND', 'getaddrinfo')],
    ['EAI_AGAIN', system('EAI_AGAIN', 'getaddrinfo')],
    [
      'ECONNREFUSED without a syscall (an AggregateError over several addresses)',
      Object.assign(new AggregateError([]), { code: 'ECONNREFUSED' }),
    ],
    ['any other failed socket call', system('ENETDOWN')],
    ['Connection terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    ['Connection terminated due to connection timeout', new Error('Connection terminated due to connection timeout')],
    ['Query read timeout', new Error('Query read timeout')],
    ['timeout exceeded when trying to connect', new Error('timeout exceeded when trying to connect')],
    ['a client that is not queryable', new Error('Client has encountered a connection error and is not queryable')],
    ['57P01 admin_shutdown', sqlState('57P01', 'FATAL')],
    ['57P02 crash_shutdown', sqlState('57P02', 'FATAL')],
    ['57P03 cannot_connect_now', sqlState('57P03', 'FATAL')],
    ['53300 too_many_connections', sqlState('53300', 'FATAL')],
    ['53000 insufficient_resources', sqlState('53000')],
    ['53100 disk_full', sqlState('53100')],
    ['53200 out_of_memory', sqlState('53200')],
    ['08000 connection_exception', sqlState('08000')],
    ['08001 unable_to_establish', sqlState('08001')],
    ['08003 connection_does_not_exist', sqlState('08003')],
    ['08004 rejected_establishment', sqlState('08004')],
    ['08006 connection_failure', sqlState('08006')],
    ['08007 transaction_resolution_unknown', sqlState('08007')],
    ['28P01 invalid_password (credentials refused: the deployment’s fault)', sqlState('28P01', 'FATAL')],
    ['28000 invalid_authorization_specification (no such role)', sqlState('28000', 'FATAL')],
    ['the client’s detached copy of 57P01', fromPg(sqlState('57P01', 'FATAL'))],
  ])('%s is a failure: the database is unavailable', (_, error) => {
    expect(classifyPgError(error)).toBe('failure');
  });

  it.each([
    ['22P02 invalid_text_representation', sqlState('22P02')],
    ['22012 division_by_zero', sqlState('22012')],
    ['23505 unique_violation', sqlState('23505')],
    ['23503 foreign_key_violation', sqlState('23503')],
    ['42P01 undefined_table', sqlState('42P01')],
    ['42601 syntax_error', sqlState('42601')],
    ['42501 insufficient_privilege', sqlState('42501')],
    ['21000 cardinality_violation', sqlState('21000')],
    ['25P02 in_failed_sql_transaction', sqlState('25P02')],
    ['25006 read_only_sql_transaction', sqlState('25006')],
    ['2BP01 dependent_objects_still_exist', sqlState('2BP01')],
    ['40001 serialization_failure', sqlState('40001')],
    ['40P01 deadlock_detected', sqlState('40P01')],
    ['08P01 protocol_violation (a wrong bind-parameter count)', sqlState('08P01')],
    ['3D000 database does not exist', sqlState('3D000', 'FATAL')],
    ['DbRequestError (the server refused the caller’s statement)', fromPg(sqlState('23505'))],
    ['DbPoolFullError (every connection busy: our own saturation)', new DbPoolFullError('primary', 2_000)],
    ['a parameter that cannot be serialized', new TypeError('Do not know how to serialize a BigInt')],
    ['a thrown string', 'nope'],
    ['undefined', undefined],
  ])('%s is ignored: the caller’s or the configuration’s fault', (_, error) => {
    expect(classifyPgError(error)).toBe('ignore');
  });

  it('57014 (statement timeout) is a success for the circuit: a slow call, not an unavailable server', () => {
    expect(classifyPgError(sqlState('57014'))).toBe('success');
  });
});

describe('classifyPgError on errors pg really raises', () => {
  it('a refused port gives ECONNREFUSED: a failure', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: await freePort(), connectionTimeoutMillis: 1_000 });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(classifyPgError(error)).toBe('failure');
  });

  describe.skipIf(!shared.available)('from the shared server', () => {
    const client = new pg.Client({ connectionString: shared.url, statement_timeout: 100 });

    beforeAll(async () => {
      client.on('error', () => {});
      await client.connect();
    });

    afterAll(async () => {
      await client.end();
    });

    it.each([
      { sql: 'SELECT 1/0', code: '22012', verdict: 'ignore' },
      { sql: "SELECT 'x'::int", code: '22P02', verdict: 'ignore' },
      { sql: 'SELECT * FROM no_such_table_here', code: '42P01', verdict: 'ignore' },
      { sql: 'SELEC 1', code: '42601', verdict: 'ignore' },
      { sql: 'SELECT $1::int', values: [1, 2], code: '08P01', verdict: 'ignore' },
      { sql: 'SELECT pg_sleep(1)', code: '57014', verdict: 'success' },
    ])('$sql fails with $code: $verdict', async ({ sql, values, code, verdict }) => {
      const error = await client.query(sql, values).then(
        () => expect.fail(`${sql} succeeded`),
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code });
      expect(classifyPgError(error)).toBe(verdict);
    });
  });
});
