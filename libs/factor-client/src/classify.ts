import type { Classification } from '@gl-vcci/breaker-core';
import { isFactorClosedError, isFactorRequestError } from './errors.js';

/**
 * The factor client's failure table, given to every `factor_broker.<source>` breaker (the README
 * prints the same table):
 *
 * - `failure`: the source is unavailable or unusable: connection refused or reset, DNS, axios'
 *   idle timeout (FactorUpstreamError without status), HTTP 5xx and 408 (FactorUpstreamError),
 *   401 and 403 (FactorUpstreamError: the deployment's credentials, logged at error level), 429
 *   (FactorRateLimitedError, carrying `retryAfterMs`), a 200 that is not a factor at all
 *   (FactorMalformedError: bad JSON, no row, a missing or negative value). Anything unknown is a
 *   failure too. The breaker's own deadline (breaker-core's TimeoutError) is always a failure and
 *   never reaches this function.
 * - `ignore`: the caller's question: 404 and every other 4xx (FactorRequestError,
 *   FactorNotFoundError), a well-formed factor for another unit, region or year than asked
 *   (FactorMismatchError); and a call cut short by `close()` (FactorClosedError).
 * - `success`: nothing.
 */
export function classifyFactorError(error: unknown): Classification {
  return isFactorRequestError(error) || isFactorClosedError(error) ? 'ignore' : 'failure';
}
