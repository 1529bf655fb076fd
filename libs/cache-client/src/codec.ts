import { CacheArgumentError, CacheDecodeError, CacheSerializationError } from './errors.js';

/** The JSON text stored for `value`, or CacheSerializationError naming the key. */
export function encode(key: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    // A BigInt, a cycle, a throwing toJSON.
    throw new CacheSerializationError(key, error);
  }
  // undefined, a function or a symbol: JSON has no text for them.
  if (json === undefined) throw new CacheSerializationError(key, new TypeError(`${typeof value} has no JSON form`));
  return json;
}

/** The value for JSON text read from Redis, or CacheDecodeError naming the key. */
export function decode(key: string, json: string): unknown {
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new CacheDecodeError(key, error);
  }
}

export function checkKey(method: string, key: unknown, name = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new CacheArgumentError(`${method}: ${name}: expected a non-empty string, got ${describe(key)}`);
  }
}

export function checkKeys(method: string, keys: unknown): asserts keys is readonly string[] {
  if (!Array.isArray(keys)) throw new CacheArgumentError(`${method}: keys: expected an array, got ${describe(keys)}`);
  keys.forEach((key, i) => {
    checkKey(method, key, `keys[${i}]`);
  });
}

export function checkTtl(method: string, ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new CacheArgumentError(
      `${method}: ttlMs: expected a positive integer (milliseconds), got ${describe(ttlMs)}`,
    );
  }
}

export function checkLoader(method: string, loader: unknown): asserts loader is () => unknown {
  if (typeof loader !== 'function') {
    throw new CacheArgumentError(`${method}: loader: expected a function, got ${describe(loader)}`);
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
