import { BreakerCoreError, errorMessage, type FallbackExhaustedError, type Issue } from '@gl-vcci/breaker-core';
import { codeGuard, detachCause } from '@gl-vcci/breaker-core/client';

/**
 * Base of the errors this client raises at run time: a stable `code` to branch on (through the
 * `isEmail…Error` guards, which hold across two copies of this package). No error carries the
 * mail's body, its attachments or the API key. Invalid options are breaker-core's ConfigError.
 */
export abstract class EmailError extends BreakerCoreError {}

/** `send` was called wrongly; the message and `issues` name every bad field. Nothing was sent or queued. */
export class EmailArgumentError extends EmailError {
  readonly code = 'EMAIL_INVALID_ARGUMENT';
  constructor(
    message: string,
    readonly issues: readonly Issue[],
  ) {
    super(message);
  }
}

/**
 * SendGrid refused the mail as the caller's mistake (400, 413, another 4xx but 401/403/408/429):
 * not queued (it would never succeed), not counted against the circuit.
 */
export class EmailRequestError extends EmailError {
  readonly code = 'EMAIL_REQUEST_REJECTED';
  constructor(
    readonly status: number,
    /** SendGrid's `errors[].message` texts, the key removed. */
    readonly detail: string,
    cause?: unknown,
  ) {
    super(`SendGrid rejected the mail: HTTP ${status}${detail ? ` ${detail}` : ''}`, { cause });
  }
}

/**
 * SendGrid could not take the mail now: no connection, the request timed out, 5xx, 429 (with
 * `retryAfterMs`), or 401/403 (the deployment's key: `credentialsRefused`). Counts against the
 * circuit; the mail is queued. `cause` is the SDK's error detached from its request.
 */
export class EmailUpstreamError extends EmailError {
  readonly code = 'EMAIL_UPSTREAM_FAILED';
  constructor(
    readonly status: number | undefined,
    readonly retryAfterMs: number | undefined,
    detail: string,
    cause?: unknown,
  ) {
    super(`SendGrid failed: ${detail}`, cause === undefined ? undefined : { cause });
  }

  get credentialsRefused(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/**
 * The outbox could not store or update the mail (disk full, `queue_dir` not writable): the mail is
 * NOT queued. Logged at error.
 */
export class EmailQueueError extends EmailError {
  readonly code = 'EMAIL_QUEUE_FAILED';
  constructor(what: string, cause: unknown) {
    super(`The e-mail outbox could not ${what}: ${errorMessage(cause)}`, { cause: detachCause(cause) });
  }
}

/**
 * SendGrid could not take the mail and the queue is disabled (`queue_enabled: false`): nothing was
 * sent. `cause` is breaker-core's FallbackExhaustedError naming the step that failed.
 */
export class EmailUnavailableError extends EmailError {
  readonly code = 'EMAIL_UNAVAILABLE';
  constructor(cause: FallbackExhaustedError) {
    const steps = cause.errors.map(({ source, error }) => `${source}: ${errorMessage(error)}`);
    super(`The mail was not sent and the queue is disabled: ${steps.join('; ')}`, { cause });
  }
}

/** The client was closed: sends after `close()`, and those still running when it was called. */
export class EmailClosedError extends EmailError {
  readonly code = 'EMAIL_CLOSED';
  constructor() {
    super('The e-mail client is closed');
  }
}

export const isEmailArgumentError = codeGuard<EmailArgumentError>('EMAIL_INVALID_ARGUMENT');
export const isEmailRequestError = codeGuard<EmailRequestError>('EMAIL_REQUEST_REJECTED');
export const isEmailUpstreamError = codeGuard<EmailUpstreamError>('EMAIL_UPSTREAM_FAILED');
export const isEmailQueueError = codeGuard<EmailQueueError>('EMAIL_QUEUE_FAILED');
export const isEmailUnavailableError = codeGuard<EmailUnavailableError>('EMAIL_UNAVAILABLE');
export const isEmailClosedError = codeGuard<EmailClosedError>('EMAIL_CLOSED');
/** Any error of this client. */
export const isEmailError = codeGuard<EmailError>(
  'EMAIL_INVALID_ARGUMENT',
  'EMAIL_REQUEST_REJECTED',
  'EMAIL_UPSTREAM_FAILED',
  'EMAIL_QUEUE_FAILED',
  'EMAIL_UNAVAILABLE',
  'EMAIL_CLOSED',
);
