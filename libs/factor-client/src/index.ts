export { LocalFactorCache } from './cache.js';
export { classifyFactorError } from './classify.js';
export { createFactorClient } from './client.js';
export { loadFactorDefaults } from './defaults.js';
export {
  FactorError,
  FactorMalformedError,
  FactorNotFoundError,
  FactorQueryError,
  FactorRateLimitedError,
  FactorRequestError,
  FactorUnavailableError,
  FactorUpstreamError,
  type LookupTarget,
} from './errors.js';
export { LOOKUPS_METRIC, type LookupOutcome } from './metrics.js';
export type {
  CachedFactor,
  FactorCache,
  FactorClient,
  FactorClientOptions,
  FactorDefault,
  FactorLogger,
  FactorQuality,
  FactorQuery,
  FactorResult,
  FactorResultSource,
  FactorSourceName,
  FactorSourceOptions,
  GetFactorOptions,
} from './types.js';
