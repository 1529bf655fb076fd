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
export { CONNECTION_ERRORS_METRIC, REQUESTS_METRIC } from './metrics.js';
export type {
  CacheClient,
  CacheClientOptions,
  CacheHit,
  CacheResult,
  CacheSource,
  CacheStatus,
  ConnectionOptions,
  LocalTierOptions,
} from './types.js';
