import { BreakerCoreError, errorMessage, type FallbackExhaustedError, type Issue } from '@gl-vcci/breaker-core';
import { codeGuard, detachCause } from '@gl-vcci/breaker-core/client';

/**
 * Base of the errors this client raises at run time: a stable `code` to branch on (through the
 * `isFactor…Error` guards, which hold across two copies of this package), the original as `cause`.
 * Invalid options are breaker-core's ConfigError.
 */
export abstract class FactorError extends BreakerCoreError {}

/** `getFactor` was called wrongly; the message and `issues` name every bad field. Nothing was sent. */
export class FactorArgumentError extends FactorError {
  readonly code = 'FACTOR_INVALID_ARGUMENT';
  constructor(
    message: string,
    readonly issues: readonly Issue[],
  ) {
    super(message);
  }
}

/** What a lookup was about, carried by every per-lookup error. */
export interface LookupTarget {
  source: string;
  activity: string;
  region: string;
  year?: number | undefined;
}

/** `factor for activity "natural_gas" in region "US" (2024)` */
function what(t: LookupTarget): string {
  return `factor for activity "${t.activity}" in region "${t.region}"${t.year === undefined ? '' : ` (${t.year})`}`;
}

/**
 * The source refused the request as the caller's mistake (a 4xx other than 401/403/408/429), or
 * answered a different question than asked: never counted against the circuit, never hidden by a
 * fallback. Subclasses keep their own codes; `isFactorRequestError` accepts them all.
 */
export class FactorRequestError extends FactorError {
  readonly code: string = 'FACTOR_REQUEST_REJECTED';
  constructor(
    readonly target: LookupTarget,
    /** The HTTP status; 200 for a well-formed answer to another question (FactorMismatchError). */
    readonly status: number,
    detail: string,
    message = `${target.source} rejected the request for the ${what(target)}: HTTP ${status}${detail ? ` ${detail}` : ''}`,
  ) {
    super(message);
  }
}

/** The source has no such factor (HTTP 404): the caller asked for something that does not exist there. */
export class FactorNotFoundError extends FactorRequestError {
  override readonly code = 'FACTOR_NOT_FOUND';
  constructor(target: LookupTarget, detail: string) {
    super(
      target,
      404,
      detail,
      `No ${target.source} ${what(target)}: ${target.source} answered 404${detail ? ` (${detail})` : ''}`,
    );
  }
}

/**
 * The source answered with a well-formed factor for another unit, region or year than asked: it
 * has no factor for the question as put, like a 404. Not the source's failure.
 */
export class FactorMismatchError extends FactorRequestError {
  override readonly code = 'FACTOR_MISMATCH';
  constructor(
    target: LookupTarget,
    /** `unit: expected "kg CO2/scf", got "kg CO2/mmBtu"` */
    readonly mismatch: string,
  ) {
    super(
      target,
      200,
      mismatch,
      `No ${target.source} ${what(target)} as asked: ${target.source} answered for another ${mismatch}`,
    );
  }
}

/**
 * The source could not be reached, failed (5xx, 408) or refused the credentials (401, 403):
 * counts against the circuit. `cause` is the SDK's error detached from its request and headers.
 */
export class FactorUpstreamError extends FactorError {
  readonly code = 'FACTOR_UPSTREAM_FAILED';
  constructor(
    readonly target: LookupTarget,
    readonly status: number | undefined,
    cause?: unknown,
  ) {
    super(
      `${target.source} failed for the ${what(target)}: ${describeFailure(target.source, status, cause)}`,
      cause === undefined ? undefined : { cause: detachCause(cause) },
    );
  }

  /** HTTP 401 or 403: the deployment's key is wrong or revoked. */
  get credentialsRefused(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

function describeFailure(source: string, status: number | undefined, cause: unknown): string {
  if (status === undefined) return errorMessage(cause);
  if (status === 401 || status === 403) return `credentials refused by ${source} (HTTP ${status}): check the API key`;
  return `HTTP ${status}`;
}

/** The source answered 429 (or 503 with Retry-After): counts against the circuit, which stays open at least `retryAfterMs`. */
export class FactorRateLimitedError extends FactorError {
  readonly code = 'FACTOR_RATE_LIMITED';
  constructor(
    readonly target: LookupTarget,
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(
      `${target.source} rate-limited the lookup of the ${what(target)}: HTTP ${status}${retryAfterMs === undefined ? '' : `, retry after ${retryAfterMs} ms`}`,
    );
  }
}

/** The source answered 200 with something that is not a factor (not JSON, no value, a negative one): counts against the circuit. */
export class FactorMalformedError extends FactorError {
  readonly code = 'FACTOR_MALFORMED_RESPONSE';
  constructor(
    readonly target: LookupTarget,
    readonly reason: string,
  ) {
    super(`${target.source} sent an unusable answer for the ${what(target)}: ${reason}`);
  }
}

/**
 * No step of the fallback chain had a value: the source failed, nothing usable was cached, the
 * failover (if any) failed, and the defaults table has no row for this activity/region/unit. The
 * message says why for each step; `cause` is breaker-core's FallbackExhaustedError listing them.
 */
export class FactorUnavailableError extends FactorError {
  readonly code = 'FACTOR_UNAVAILABLE';
  constructor(
    readonly target: LookupTarget,
    cause: FallbackExhaustedError,
    reasons: Readonly<Record<string, string | undefined>> = {},
  ) {
    const steps = cause.errors.map(({ source, error }) => `${source}: ${reasons[source] ?? errorMessage(error)}`);
    super(`No ${target.source} ${what(target)} available: ${steps.join('; ')}`, { cause });
  }
}

/** The client was closed: lookups after `close()`, and those still running when it was called. */
export class FactorClosedError extends FactorError {
  readonly code = 'FACTOR_CLOSED';
  constructor() {
    super('The factor client is closed');
  }
}

export const isFactorArgumentError = codeGuard<FactorArgumentError>('FACTOR_INVALID_ARGUMENT');
export const isFactorRequestError = codeGuard<FactorRequestError>(
  'FACTOR_REQUEST_REJECTED',
  'FACTOR_NOT_FOUND',
  'FACTOR_MISMATCH',
);
export const isFactorNotFoundError = codeGuard<FactorNotFoundError>('FACTOR_NOT_FOUND');
export const isFactorMismatchError = codeGuard<FactorMismatchError>('FACTOR_MISMATCH');
export const isFactorUpstreamError = codeGuard<FactorUpstreamError>('FACTOR_UPSTREAM_FAILED');
export const isFactorRateLimitedError = codeGuard<FactorRateLimitedError>('FACTOR_RATE_LIMITED');
export const isFactorMalformedError = codeGuard<FactorMalformedError>('FACTOR_MALFORMED_RESPONSE');
export const isFactorUnavailableError = codeGuard<FactorUnavailableError>('FACTOR_UNAVAILABLE');
export const isFactorClosedError = codeGuard<FactorClosedError>('FACTOR_CLOSED');
/** Any error of this client. */
export const isFactorError = codeGuard<FactorError>(
  'FACTOR_INVALID_ARGUMENT',
  'FACTOR_REQUEST_REJECTED',
  'FACTOR_NOT_FOUND',
  'FACTOR_MISMATCH',
  'FACTOR_UPSTREAM_FAILED',
  'FACTOR_RATE_LIMITED',
  'FACTOR_MALFORMED_RESPONSE',
  'FACTOR_UNAVAILABLE',
  'FACTOR_CLOSED',
);
