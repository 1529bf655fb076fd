import type { Classification } from '@gl-vcci/breaker-core';
import { isErpClosedError, isErpRequestError } from './errors.js';

/**
 * The ERP client's failure table, given to every `erp_connectors.<system>` breaker (the README
 * prints the same table):
 *
 * - `failure`: the system is unavailable or unusable: connection refused or reset, DNS, axios' idle
 *   timeout (ErpUpstreamError without status), HTTP 5xx and 408 (ErpUpstreamError), 401 and 403
 *   (ErpUpstreamError: the deployment's credentials, logged at error naming the system; also from
 *   the OAuth2 token endpoint), 429 and 503 with Retry-After (ErpRateLimitedError, carrying
 *   `retryAfterMs`), a 200 that is no page (ErpMalformedError: not JSON, no records array, a record
 *   without its key fields). Anything unknown is a failure too. The breaker's own page deadline
 *   (breaker-core's TimeoutError) is always a failure and never reaches this function.
 * - `ignore`: the caller's request: 400, 404, 422 and every other 4xx (ErpRequestError); and a page
 *   cut short by `close()` (ErpClosedError).
 * - `success`: nothing.
 *
 * A full bulkhead (breaker-core's BulkheadFullError) never reaches the breaker: the bulkhead sits
 * outside it, so our own saturation is not the ERP's failure.
 */
export function classifyErpError(error: unknown): Classification {
  return isErpRequestError(error) || isErpClosedError(error) ? 'ignore' : 'failure';
}
