/**
 * What an HTTP status means to a client, by the vocabulary's one rule:
 * - `ok`: 2xx;
 * - `rate_limited`: 429, or 503 with Retry-After: a failure that says when to come back;
 * - `failure`: 5xx, 408, and 401/403 (credentials refused are the deployment's problem, not the
 *   caller's: they count against the circuit and fallbacks serve what they can);
 * - `request`: any other 4xx, the caller's mistake: never counted, never hidden by a fallback;
 * - `unexpected`: anything else (1xx, 3xx): an answer the client cannot use.
 */
export type HttpStatusClass = 'ok' | 'rate_limited' | 'failure' | 'request' | 'unexpected';

export function httpStatusClass(status: number, hasRetryAfter = false): HttpStatusClass {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429 || (status === 503 && hasRetryAfter)) return 'rate_limited';
  if (status >= 500 || status === 408 || status === 401 || status === 403) return 'failure';
  if (status >= 400) return 'request';
  return 'unexpected';
}
