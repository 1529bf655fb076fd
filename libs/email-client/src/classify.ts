import type { Classification } from '@gl-vcci/breaker-core';
import { isEmailClosedError, isEmailRequestError } from './errors.js';

/**
 * The e-mail failure table, given to the `email_service.sendgrid` breaker (the README prints the
 * same table):
 *
 * | what                                                    | error               | circuit | the mail        |
 * | ------------------------------------------------------- | ------------------- | ------- | --------------- |
 * | refused, reset, DNS, the request timeout (no response)  | EmailUpstreamError  | failure | queued          |
 * | 5xx, 408                                                | EmailUpstreamError  | failure | queued          |
 * | 429 (Retry-After / X-RateLimit-Reset kept)              | EmailUpstreamError  | failure | queued, not before the hint |
 * | 401, 403 (logged at error: the deployment's key)        | EmailUpstreamError  | failure | queued          |
 * | 400, 413, other 4xx                                     | EmailRequestError   | ignore  | not queued, thrown |
 * | `close()` during the call                               | EmailClosedError    | ignore  | stays queued    |
 *
 * Anything unknown is a failure. The breaker's own deadline (TimeoutError) is always a failure.
 */
export function classifyEmailError(error: unknown): Classification {
  return isEmailRequestError(error) || isEmailClosedError(error) ? 'ignore' : 'failure';
}
