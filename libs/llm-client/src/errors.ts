import { BreakerCoreError, errorMessage } from '@gl-vcci/breaker-core';
import type { ProviderName } from './types.js';

/**
 * Base of the errors this client raises itself: a stable `code` to branch on, the original as
 * `cause`. Invalid options are breaker-core's ConfigError.
 */
export abstract class LlmError extends BreakerCoreError {}

/** How a provider failed, which decides what the circuit counts and whether the request fails over. */
export type FailureKind = 'unavailable' | 'rate_limited' | 'quota' | 'auth' | 'cancelled';

/**
 * A provider could not answer: down, overloaded, rate-limited, out of quota, or refusing the API
 * key. `retryAfterMs` (rate limits, quota) keeps its circuit open at least that long.
 */
export class LlmProviderError extends LlmError {
  readonly code = 'LLM_PROVIDER_FAILED';
  constructor(
    readonly provider: ProviderName,
    readonly kind: FailureKind,
    readonly status: number | undefined,
    readonly retryAfterMs: number | undefined,
    readonly requestId: string | undefined,
    cause: unknown,
  ) {
    super(`${provider} ${describe(kind, status)}`, { cause });
  }
}

/**
 * The provider refused the request itself (HTTP 400, 404, 413, 422, or the SDK refused it
 * locally): another provider would too, so it never fails over and never trips a circuit.
 */
export class LlmRequestRejectedError extends LlmError {
  readonly code = 'LLM_REQUEST_REJECTED';
  constructor(
    readonly provider: ProviderName,
    readonly status: number | undefined,
    readonly requestId: string | undefined,
    cause: unknown,
  ) {
    super(
      `${provider} rejected the request${status === undefined ? '' : ` (HTTP ${status})`}: ${errorMessage(cause)}`,
      { cause },
    );
  }
}

/** Every provider failed or was refused by its circuit; `errors` holds each provider's error, in the order tried. */
export class LlmUnavailableError extends LlmError {
  readonly code = 'LLM_UNAVAILABLE';
  constructor(readonly errors: ReadonlyArray<{ provider: ProviderName; error: unknown }>) {
    super(`No LLM provider could answer: ${errors.map((e) => `${e.provider} (${errorMessage(e.error)})`).join(', ')}`, {
      cause: errors.at(-1)?.error,
    });
  }
}

/** A streamed answer went quiet: no first text in time, or too long a gap between two pieces. */
export class LlmStreamTimeoutError extends LlmError {
  readonly code = 'LLM_STREAM_TIMEOUT';
  constructor(
    readonly provider: ProviderName,
    readonly phase: 'first_token' | 'idle',
    readonly timeoutMs: number,
  ) {
    super(
      phase === 'first_token'
        ? `${provider} sent no text within ${timeoutMs} ms`
        : `${provider} stream was idle for ${timeoutMs} ms`,
    );
  }
}

/** `generate` or `stream` was given a bad request; the message names the field. */
export class LlmArgumentError extends LlmError {
  readonly code = 'LLM_INVALID_ARGUMENT';
}

function describe(kind: FailureKind, status: number | undefined): string {
  const http = status === undefined ? '' : ` (HTTP ${status})`;
  switch (kind) {
    case 'unavailable':
      return `unavailable${http}`;
    case 'rate_limited':
      return `rate limited${http}`;
    case 'quota':
      return `quota exhausted: a billing problem${http}`;
    case 'auth':
      return `refused the credentials${http}`;
    case 'cancelled':
      return 'call cancelled';
  }
}
