export { classifyFactorError } from './classify.js';
export { createFactorClient } from './client.js';
export { loadFactorDefaults } from './defaults.js';
export {
  FactorArgumentError,
  FactorClosedError,
  FactorError,
  FactorMalformedError,
  FactorMismatchError,
  FactorNotFoundError,
  FactorRateLimitedError,
  FactorRequestError,
  FactorUnavailableError,
  FactorUpstreamError,
  isFactorArgumentError,
  isFactorClosedError,
  isFactorError,
  isFactorMalformedError,
  isFactorMismatchError,
  isFactorNotFoundError,
  isFactorRateLimitedError,
  isFactorRequestError,
  isFactorUnavailableError,
  isFactorUpstreamError,
  type LookupTarget,
} from './errors.js';
export { LOOKUPS_METRIC, type LookupOutcome } from './metrics.js';
export type {
  CachedFactor,
  FactorBreakerOptions,
  FactorClient,
  FactorClientOptions,
  FactorClientStatus,
  FactorDefault,
  FactorQuality,
  FactorQuery,
  FactorResult,
  FactorResultSource,
  FactorSourceName,
  FactorSourceOptions,
  GetFactorOptions,
} from './types.js';
