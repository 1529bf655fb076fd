import { describe, expect, it } from 'vitest';
import { checkKey, checkKeys, checkTtl, decode, encode } from './codec.js';
import { CacheArgumentError, CacheDecodeError, CacheSerializationError } from './errors.js';

describe('encode', () => {
  it('gives the JSON text of a value', () => {
    expect(encode('k', { a: [1, 'two', null, true] })).toBe('{"a":[1,"two",null,true]}');
  });

  it.each([
    ['a BigInt', 10n, /BigInt/],
    [
      'a cycle',
      (() => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      })(),
      /circular/,
    ],
    ['undefined', undefined, /undefined has no JSON form/],
    ['a function', () => 1, /function has no JSON form/],
  ])('refuses %s with CacheSerializationError naming the key', (_name, value, reason) => {
    const error = catchError(() => encode('factors:DE:2024', value));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect(error).toMatchObject({ code: 'CACHE_VALUE_NOT_SERIALIZABLE', key: 'factors:DE:2024' });
    expect((error as Error).message).toMatch(/key "factors:DE:2024"/);
    expect((error as Error).message).toMatch(reason);
  });
});

describe('decode', () => {
  it('refuses text that is not JSON with CacheDecodeError naming the key', () => {
    const error = catchError(() => decode('k1', 'not json'));
    expect(error).toBeInstanceOf(CacheDecodeError);
    expect(error).toMatchObject({ code: 'CACHE_VALUE_NOT_JSON', key: 'k1' });
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
  });
});

describe('argument checks', () => {
  it('a key must be a non-empty string', () => {
    expect(() => checkKey('get', '')).toThrow(new CacheArgumentError('get: key: expected a non-empty string, got ""'));
    expect(() => checkKey('get', 42)).toThrow('get: key: expected a non-empty string, got 42');
  });

  it('keys must be an array of non-empty strings, each named by its index', () => {
    expect(() => checkKeys('mget', 'a')).toThrow('mget: keys: expected an array, got "a"');
    expect(() => checkKeys('mget', ['a', ''])).toThrow('mget: keys[1]: expected a non-empty string, got ""');
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1000'])('a TTL of %s is refused', (ttl) => {
    expect(() => checkTtl('set', ttl)).toThrow(/^set: ttlMs: expected a positive integer \(milliseconds\), got /);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
