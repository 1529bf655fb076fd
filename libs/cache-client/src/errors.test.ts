import { ErrorReply } from 'redis';
import { describe, expect, it } from 'vitest';
import * as errors from './errors.js';

const made = (e: typeof errors) => ({
  argument: new e.CacheArgumentError('get: key: expected a non-empty string, got ""', [
    { path: 'key', message: 'expected a non-empty string, got ""' },
  ]),
  serialization: new e.CacheSerializationError('k', new TypeError('BigInt')),
  decode: new e.CacheDecodeError('k', new SyntaxError('Unexpected token')),
  request: new e.CacheRequestError('k', 'GET', new ErrorReply('WRONGTYPE Operation against a key')),
  closed: new e.CacheClosedError(),
});

describe('error guards', () => {
  it('recognise errors made by another copy of this package, where instanceof does not', async () => {
    // A query gives a second instance of the module: two copies of cache-client in one process.
    const second = './errors.js?copy=2';
    const other = (await import(second)) as typeof errors;
    const foreign = made(other);
    expect(foreign.request instanceof errors.CacheRequestError).toBe(false);
    expect(errors.isCacheArgumentError(foreign.argument)).toBe(true);
    expect(errors.isCacheSerializationError(foreign.serialization)).toBe(true);
    expect(errors.isCacheDecodeError(foreign.decode)).toBe(true);
    expect(errors.isCacheRequestError(foreign.request)).toBe(true);
    expect(errors.isCacheClosedError(foreign.closed)).toBe(true);
    expect(Object.values(foreign).every((error) => errors.isCacheError(error))).toBe(true);
  });

  it('each guard accepts its own code only', () => {
    const own = made(errors);
    expect(Object.values(own).map((error) => errors.isCacheRequestError(error))).toEqual([
      false,
      false,
      false,
      true,
      false,
    ]);
    expect(errors.isCacheError(new Error('x'))).toBe(false);
    expect(errors.isCacheError(null)).toBe(false);
  });

  it('name the class and keep a stable code', () => {
    const own = made(errors);
    expect(Object.values(own).map((error) => [error.name, error.code])).toEqual([
      ['CacheArgumentError', 'CACHE_INVALID_ARGUMENT'],
      ['CacheSerializationError', 'CACHE_VALUE_NOT_SERIALIZABLE'],
      ['CacheDecodeError', 'CACHE_VALUE_NOT_JSON'],
      ['CacheRequestError', 'CACHE_REQUEST_REJECTED'],
      ['CacheClosedError', 'CACHE_CLOSED'],
    ]);
  });
});
