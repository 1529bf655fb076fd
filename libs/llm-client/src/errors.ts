import { BreakerCoreError, errorMessage, type FallbackExhaustedError, type Issue } from '@gl-vcci/breaker-core';
import { codeGuard } from '@gl-vcci/breaker-core/client';
import type { ProviderName } from './types.js';

/**
 * Base of every error this client throws (a caller's own abort reason aside): a stable `code` to
 * branch on, the original as `cause`, always a copy made safe by `detachCause`. Invalid options
 * are breaker-core's ConfigError.
 */
export abstract class LlmError extends BreakerCoreError {}

/** How a provider failed, which decides what its circuit counts. */
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

/**
 * A stream ended before the provider said it was complete (no `message_stop`, no chunk with a
 * `finish_reason`): the connection was cut, the text is partial. Never cached, never a success.
 */
export class LlmStreamIncompleteError extends LlmError {
  readonly code = 'LLM_STREAM_INCOMPLETE';
  constructor(
    readonly provider: ProviderName,
    /** Characters of text received before the cut. */
    readonly received: number,
  ) {
    super(`${provider} stream ended before the answer was complete (${received} characters received)`);
  }
}

/**
 * The provider refused the request itself (HTTP 400, 404, 413, 422, or the SDK refused it
 * locally): another provider would too, so it never fails over and never trips a circuit.
 * `after` lists the providers that failed before this one was asked (their outage, not the
 * request, is why this provider saw it).
 */
export class LlmRequestError extends LlmError {
  readonly code = 'LLM_REQUEST_REJECTED';
  readonly after: ReadonlyArray<{ provider: ProviderName; error: unknown }>;
  constructor(
    readonly provider: ProviderName,
    readonly status: number | undefined,
    readonly requestId: string | undefined,
    cause: unknown,
    after: ReadonlyArray<{ provider: ProviderName; error: unknown }> = [],
  ) {
    const http = status === undefined ? '' : ` (HTTP ${status})`;
    const before =
      after.length === 0
        ? ''
        : ` after ${after.map((a) => `${a.provider} failed (${errorMessage(a.error)})`).join(', ')}`;
    super(`${provider} rejected the request${http}${before}: ${errorMessage(cause)}`, { cause });
    this.after = after;
  }
}

/** Every provider failed or was refused by its circuit; `cause` is the FallbackExhaustedError naming each. */
export class LlmUnavailableError extends LlmError {
  readonly code = 'LLM_UNAVAILABLE';
  /** Each provider's error, in the order tried. */
  readonly errors: ReadonlyArray<{ provider: ProviderName; error: unknown }>;
  constructor(cause: FallbackExhaustedError) {
    super(
      `No LLM provider could answer: ${cause.errors.map((e) => `${e.upstream ?? e.source} (${errorMessage(e.error)})`).join(', ')}`,
      { cause },
    );
    this.errors = cause.errors.map((e) => ({ provider: e.upstream as ProviderName, error: e.error }));
  }
}

/** `generate` or `stream` was given a bad request; `issues` names each field. */
export class LlmArgumentError extends LlmError {
  readonly code = 'LLM_INVALID_ARGUMENT';
  constructor(
    message: string,
    readonly issues: readonly Issue[],
  ) {
    super(message);
  }
}

/** The client was closed: no new call starts, and calls in flight are abandoned. */
export class LlmClosedError extends LlmError {
  readonly code = 'LLM_CLOSED';
  constructor() {
    super('The LLM client is closed');
  }
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

// Guards by `code`, not instanceof: they hold with two copies of this package in one application.
const CODES = [
  'LLM_PROVIDER_FAILED',
  'LLM_STREAM_TIMEOUT',
  'LLM_STREAM_INCOMPLETE',
  'LLM_REQUEST_REJECTED',
  'LLM_UNAVAILABLE',
  'LLM_INVALID_ARGUMENT',
  'LLM_CLOSED',
];
export const isLlmError = codeGuard<LlmError>(...CODES);
export const isLlmProviderError = codeGuard<LlmProviderError>('LLM_PROVIDER_FAILED');
export const isLlmStreamTimeoutError = codeGuard<LlmStreamTimeoutError>('LLM_STREAM_TIMEOUT');
export const isLlmStreamIncompleteError = codeGuard<LlmStreamIncompleteError>('LLM_STREAM_INCOMPLETE');
export const isLlmRequestError = codeGuard<LlmRequestError>('LLM_REQUEST_REJECTED');
export const isLlmUnavailableError = codeGuard<LlmUnavailableError>('LLM_UNAVAILABLE');
export const isLlmArgumentError = codeGuard<LlmArgumentError>('LLM_INVALID_ARGUMENT');
export const isLlmClosedError = codeGuard<LlmClosedError>('LLM_CLOSED');
