export { classifyRedisError } from './classify.js';
export { createCacheClient } from './client.js';
export {
  CacheArgumentError,
  CacheClosedError,
  CacheCommandError,
  CacheDecodeError,
  CacheError,
  CacheSerializationError,
} from './errors.js';
export { CONNECTION_ERRORS_METRIC, REQUESTS_METRIC, UNSYNCED_DROPPED_METRIC } from './metrics.js';
export type {
  CacheClient,
  CacheClientOptions,
  CacheConnectionOptions,
  CacheHit,
  CacheLocalOptions,
  CacheLogger,
  CacheResult,
  CacheSource,
  CacheStatus,
  CacheWriteTier,
} from './types.js';
