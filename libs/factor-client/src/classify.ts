import type { Classification } from '@gl-vcci/breaker-core';
import { FactorRequestError } from './errors.js';

/**
 * The factor client's failure table, given to every `factor_broker.<source>` breaker:
 *
 * - `failure`: the source is unavailable or unusable: connection refused or reset, DNS, axios'
 *   idle timeout (FactorUpstreamError without status), HTTP 5xx and 408 (FactorUpstreamError),
 *   429 (FactorRateLimitedError, carrying `retryAfterMs`), a 200 that is not a usable factor
 *   (FactorMalformedError: bad JSON, missing or negative value, wrong unit, region or year).
 *   Anything unknown is a failure too. The breaker's own deadline (breaker-core's TimeoutError)
 *   is always a failure and never reaches this function.
 * - `ignore`: the caller's mistake: 404 and every other 4xx (FactorRequestError, FactorNotFoundError).
 * - `success`: nothing.
 */
export function classifyFactorError(error: unknown): Classification {
  return error instanceof FactorRequestError ? 'ignore' : 'failure';
}

/** A caller's mistake, returned to it and never hidden by a fallback (fallbackChain's `stopOn`). */
export function isCallerError(error: unknown): error is FactorRequestError {
  return error instanceof FactorRequestError;
}
