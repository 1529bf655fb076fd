import {
  APIUserAbortError as AnthropicAbortError,
  APIError as AnthropicAPIError,
  AnthropicError,
} from '@anthropic-ai/sdk';
import { type Classification, parseRetryAfter } from '@gl-vcci/breaker-core';
import { detachCause, MAX_TIMER_MS } from '@gl-vcci/breaker-core/client';
import { APIUserAbortError as OpenAIAbortError, APIError as OpenAIAPIError, OpenAIError } from 'openai';
import {
  type FailureKind,
  isLlmError,
  isLlmProviderError,
  isLlmRequestError,
  LlmProviderError,
  LlmRequestError,
} from './errors.js';
import type { ProviderName } from './types.js';

/**
 * Held by a quota error so its circuit stays open as long as the breaker allows: its
 * `maxOpenDurationMs` caps it. Out of quota is not fixed by waiting a minute.
 */
export const QUOTA_RETRY_AFTER_MS = MAX_TIMER_MS;

type SdkApiError = AnthropicAPIError | OpenAIAPIError;

/**
 * The LLM failure table, one place for both SDKs (their error classes have the same shape):
 *
 * | what                                                    | kind           | circuit   | fails over |
 * | ------------------------------------------------------- | -------------- | --------- | ---------- |
 * | no response (refused, reset), SDK timeout               | `unavailable`  | failure   | yes        |
 * | 408, 409, 5xx (500, 502, 503, 504, 529 overloaded)      | `unavailable`  | failure   | yes        |
 * | an `error` event inside a 200 stream                    | `unavailable`  | failure   | yes (before the first text) |
 * | a stream ended without its final event (cut short)      | incomplete     | failure   | yes (before the first text) |
 * | no first text in time, a stream idle too long           | stream timeout | failure   | yes (before the first text) |
 * | 429 rate limit                                          | `rate_limited` | failure + Retry-After | yes |
 * | 429 `insufficient_quota` (OpenAI), 402 (Anthropic)      | `quota`        | failure + maximum open | yes |
 * | 401, 403 (credentials refused: logged at error)         | `auth`         | failure   | yes        |
 * | 400, 404, 413, 422, other 4xx, a local SDK refusal      | rejected       | ignore    | no         |
 * | caller abort (`APIUserAbortError`)                      | `cancelled`    | ignore    | no         |
 *
 * Returns the error to throw inside the breaker: LlmProviderError (with `retryAfterMs` for the
 * breaker) or LlmRequestError. The SDK's error is kept as `cause` only as a `detachCause` copy
 * with the provider's key (`secrets`) removed: the SDKs' errors hold the response headers and
 * body, which an upstream or a gateway may fill with the key it was sent.
 */
export function toProviderError(provider: ProviderName, error: unknown, secrets: readonly string[]): Error {
  if (isLlmError(error)) return error;
  if (error instanceof AnthropicAbortError || error instanceof OpenAIAbortError) {
    return new LlmProviderError(provider, 'cancelled', undefined, undefined, undefined, detachCause(error, secrets));
  }
  if (error instanceof AnthropicAPIError || error instanceof OpenAIAPIError)
    return fromApiError(provider, error, secrets);
  // The SDK refused the request before sending it (e.g. Anthropic's "Streaming is required").
  if (error instanceof AnthropicError || error instanceof OpenAIError) {
    return new LlmRequestError(provider, undefined, undefined, detachCause(error, secrets));
  }
  return new LlmProviderError(provider, 'unavailable', undefined, undefined, undefined, detachCause(error, secrets));
}

function fromApiError(provider: ProviderName, error: SdkApiError, secrets: readonly string[]): Error {
  const status = error.status;
  const requestId = error.requestID ?? undefined;
  const failure = (kind: FailureKind, retryAfterMs?: number) =>
    new LlmProviderError(provider, kind, status, retryAfterMs, requestId, detachCause(error, secrets));
  // Connection errors, and error events inside a stream, have no status.
  if (status === undefined) return failure('unavailable');
  if (status === 429) {
    return isQuota(error) ? failure('quota', QUOTA_RETRY_AFTER_MS) : failure('rate_limited', retryAfterMs(error));
  }
  if (status === 402) return failure('quota', QUOTA_RETRY_AFTER_MS);
  if (status === 401 || status === 403) return failure('auth');
  if (status === 408 || status === 409 || status >= 500) return failure('unavailable', retryAfterMs(error));
  return new LlmRequestError(provider, status, requestId, detachCause(error, secrets));
}

function isQuota(error: SdkApiError): boolean {
  const code = (error as { code?: unknown }).code;
  const type = (error as { type?: unknown }).type;
  return code === 'insufficient_quota' || type === 'insufficient_quota';
}

/**
 * The provider's wait hint: `retry-after-ms` (milliseconds), else `retry-after` (seconds or an
 * HTTP date). Capped at Node's timer limit here; the breaker caps it again at `maxOpenDurationMs`.
 */
export function retryAfterMs(error: { headers?: Headers | undefined }, now = Date.now()): number | undefined {
  const headers = error.headers;
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms > 0) return Math.min(Math.ceil(ms), MAX_TIMER_MS);
  // A date in the past means "now": no wait worth carrying, like an absent header.
  return parseRetryAfter(headers.get('retry-after'), now, MAX_TIMER_MS) || undefined;
}

/**
 * Given to both circuits. Rejected requests are the caller's and cancellations nobody's: ignored.
 * Everything else is a failure, refused credentials included (the deployment's problem: the
 * circuit opens and the other provider serves). Unknown errors count as failures.
 */
export function classifyLlmError(error: unknown): Classification {
  if (isLlmRequestError(error)) return 'ignore';
  if (isLlmProviderError(error) && error.kind === 'cancelled') return 'ignore';
  return 'failure';
}
