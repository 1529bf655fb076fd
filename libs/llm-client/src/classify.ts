import {
  APIUserAbortError as AnthropicAbortError,
  APIError as AnthropicAPIError,
  AnthropicError,
} from '@anthropic-ai/sdk';
import { type Classification, MAX_TIMER_MS, parseRetryAfter } from '@gl-vcci/breaker-core';
import { APIUserAbortError as OpenAIAbortError, APIError as OpenAIAPIError, OpenAIError } from 'openai';
import { type FailureKind, LlmProviderError, LlmRequestRejectedError, LlmStreamTimeoutError } from './errors.js';
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
 * | 429 rate limit                                          | `rate_limited` | failure + Retry-After | yes |
 * | 429 `insufficient_quota` (OpenAI), 402 (Anthropic)      | `quota`        | failure + maximum open | yes |
 * | 401, 403                                                | `auth`         | ignore    | yes        |
 * | 400, 404, 413, 422, other 4xx, a local SDK refusal      | rejected       | ignore    | no         |
 * | caller abort (`APIUserAbortError`)                      | `cancelled`    | ignore    | no         |
 *
 * Returns the error to throw inside the breaker: LlmProviderError (with `retryAfterMs` for the
 * breaker) or LlmRequestRejectedError.
 */
export function toProviderError(provider: ProviderName, error: unknown): Error {
  if (error instanceof LlmProviderError || error instanceof LlmRequestRejectedError) return error;
  if (error instanceof LlmStreamTimeoutError) return error;
  if (error instanceof AnthropicAbortError || error instanceof OpenAIAbortError) {
    return new LlmProviderError(provider, 'cancelled', undefined, undefined, undefined, error);
  }
  if (error instanceof AnthropicAPIError || error instanceof OpenAIAPIError) return fromApiError(provider, error);
  // The SDK refused the request before sending it (e.g. Anthropic's "Streaming is required").
  if (error instanceof AnthropicError || error instanceof OpenAIError) {
    return new LlmRequestRejectedError(provider, undefined, undefined, error);
  }
  return new LlmProviderError(provider, 'unavailable', undefined, undefined, undefined, error);
}

function fromApiError(provider: ProviderName, error: SdkApiError): Error {
  const status = error.status;
  const requestId = error.requestID ?? undefined;
  const failure = (kind: FailureKind, retryAfterMs?: number) =>
    new LlmProviderError(provider, kind, status, retryAfterMs, requestId, error);
  // Connection errors, and error events inside a stream, have no status.
  if (status === undefined) return failure('unavailable');
  if (status === 429) {
    return isQuota(error) ? failure('quota', QUOTA_RETRY_AFTER_MS) : failure('rate_limited', retryAfterMs(error));
  }
  if (status === 402) return failure('quota', QUOTA_RETRY_AFTER_MS);
  if (status === 401 || status === 403) return failure('auth');
  if (status === 408 || status === 409 || status >= 500) return failure('unavailable', retryAfterMs(error));
  return new LlmRequestRejectedError(provider, status, requestId, error);
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
 * Given to both circuits. Auth errors and cancellations are not the provider being down;
 * rejected requests are the caller's. Everything else, unknown errors included, is a failure.
 */
export function classifyLlmError(error: unknown): Classification {
  if (error instanceof LlmRequestRejectedError) return 'ignore';
  if (error instanceof LlmProviderError)
    return error.kind === 'auth' || error.kind === 'cancelled' ? 'ignore' : 'failure';
  return 'failure';
}
