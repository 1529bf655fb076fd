export { classifyRedisError } from './classify.js';
export { createCacheClient } from './client.js';
export {
  CacheArgumentError,
  CacheClosedError,
  CacheDecodeError,
  CacheError,
  CacheRequestError,
  CacheSerializationError,
  isCacheArgumentError,
  isCacheClosedError,
  isCacheDecodeError,
  isCacheError,
  isCacheRequestError,
  isCacheSerializationError,
} from './errors.js';
export { CONNECTION_ERRORS_METRIC, REQUESTS_METRIC, UNSYNCED_DROPPED_METRIC } from './metrics.js';
export { keyValueStore } from './store.js';
export type {
  CacheCallOptions,
  CacheClient,
  CacheClientOptions,
  CacheConnectionOptions,
  CacheHit,
  CacheLocalOptions,
  CacheResult,
  CacheSource,
  CacheStatus,
  CacheTier,
  CacheWriteTier,
} from './types.js';
