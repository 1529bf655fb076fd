import { CacheDecodeError, CacheSerializationError } from './errors.js';

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
