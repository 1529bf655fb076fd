import { describe, expect, it } from 'vitest';
import { decode, encode } from './codec.js';
import { CacheDecodeError, CacheSerializationError } from './errors.js';

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

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
