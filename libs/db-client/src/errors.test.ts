import { FallbackExhaustedError } from '@gl-vcci/breaker-core';
import { describe, expect, it } from 'vitest';
import * as errors from './errors.js';

describe('error guards', () => {
  it('recognise errors made by a second copy of the package, where instanceof does not', async () => {
    // A query gives a second instance of the module: two copies of db-client in one application.
    const second = '../src/errors.js?copy=2';
    const other = (await import(second)) as typeof errors;
    const made: Array<[unknown, (e: unknown) => boolean, new (...args: never[]) => unknown]> = [
      [new other.DbArgumentError([{ path: 'text', message: 'x' }]), errors.isDbArgumentError, errors.DbArgumentError],
      [new other.DbRequestError('syntax error', { sqlState: '42601' }), errors.isDbRequestError, errors.DbRequestError],
      [
        new other.DbUnavailableError(new FallbackExhaustedError([])),
        errors.isDbUnavailableError,
        errors.DbUnavailableError,
      ],
      [new other.DbClosedError(), errors.isDbClosedError, errors.DbClosedError],
      [new other.DbPoolFullError('primary', 0), errors.isDbPoolFullError, errors.DbPoolFullError],
      [new other.DbTransactionAbortedError(), errors.isDbTransactionAbortedError, errors.DbTransactionAbortedError],
      [new other.DbSessionBrokenError('x'), errors.isDbSessionBrokenError, errors.DbSessionBrokenError],
    ];
    for (const [error, guard, local] of made) {
      expect(error instanceof local).toBe(false);
      expect(guard(error)).toBe(true);
      expect(errors.isDbError(error)).toBe(true);
    }
    expect(errors.isDbClosedError(new other.DbPoolFullError('primary', 0))).toBe(false);
    expect(errors.isDbError(new Error('x'))).toBe(false);
    expect(errors.isDbError(null)).toBe(false);
  });

  it('DbRequestError keeps the SQLSTATE as sqlState and its own code', () => {
    const error = new errors.DbRequestError('duplicate key', { sqlState: '23505', constraint: 'items_pkey' });
    expect(error).toMatchObject({ code: 'DB_REQUEST_REJECTED', sqlState: '23505', constraint: 'items_pkey' });
  });
});
