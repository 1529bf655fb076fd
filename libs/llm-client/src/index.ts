export { cacheKeyOf } from './cache.js';
export { classifyLlmError, QUOTA_RETRY_AFTER_MS, retryAfterMs, toProviderError } from './classify.js';
export { createLlmClient } from './client.js';
export {
  type FailureKind,
  LlmArgumentError,
  LlmError,
  LlmProviderError,
  LlmRequestRejectedError,
  LlmStreamTimeoutError,
  LlmUnavailableError,
} from './errors.js';
export { COST_METRIC, FAILOVERS_METRIC, REQUESTS_METRIC, type RequestOutcome, TOKENS_METRIC } from './metrics.js';
export type {
  CachedCompletion,
  LlmCallOptions,
  LlmClient,
  LlmClientOptions,
  LlmLogger,
  LlmMessage,
  LlmPrices,
  LlmProviderOptions,
  LlmProviderStatus,
  LlmRequest,
  LlmResponseCache,
  LlmResult,
  LlmSource,
  LlmStreamEvent,
  LlmStreamOptions,
  LlmUsage,
  ProviderName,
} from './types.js';
