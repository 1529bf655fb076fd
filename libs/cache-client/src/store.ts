import type { KeyValueStore } from '@gl-vcci/breaker-core/client';
import { isCacheDecodeError, isCacheRequestError } from './errors.js';
import type { CacheClient } from './types.js';

/**
 * This cache as breaker-core's `KeyValueStore`, the `cache` option of factor-client, llm-client
 * and erp-client. A key holding another type or a value that is not JSON (a caller's mistake,
 * not an outage) is a miss for the other client too: its live source answers and `set`
 * overwrites the key. Outages never reach it: `get` resolves the local value or a miss.
 */
export function keyValueStore<T>(cache: CacheClient): KeyValueStore<T> {
  return {
    async get(key, options) {
      try {
        return (await cache.get<T>(key, options))?.value;
      } catch (error) {
        if (isCacheRequestError(error) || isCacheDecodeError(error)) return undefined;
        throw error;
      }
    },
    async set(key, value, ttlMs) {
      await cache.set(key, value, ttlMs); // resolves to the tier it reached: the store interface wants void
    },
  };
}
