import { BreakerCoreError, errorMessage, type FallbackExhaustedError, type Issue } from '@gl-vcci/breaker-core';

/**
 * Base of the errors this client raises at run time: a stable `code` to branch on, the original
 * as `cause`. Invalid options are breaker-core's ConfigError.
 */
export abstract class FactorError extends BreakerCoreError {}

/** `getFactor` was given a bad query; the message and `issues` name every bad field. Nothing was sent. */
export class FactorQueryError extends FactorError {
  readonly code = 'FACTOR_INVALID_QUERY';
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
 * The source refused the request as the caller's mistake (a 4xx other than 408/429): not counted
 * against the circuit and never hidden by a fallback.
 */
export class FactorRequestError extends FactorError {
  readonly code: string = 'FACTOR_REQUEST_REJECTED';
  constructor(
    readonly target: LookupTarget,
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

/** The source could not be reached or failed (connection error, 5xx, 408): counts against the circuit. */
export class FactorUpstreamError extends FactorError {
  readonly code = 'FACTOR_UPSTREAM_FAILED';
  constructor(
    readonly target: LookupTarget,
    readonly status: number | undefined,
    cause?: unknown,
  ) {
    super(
      `${target.source} failed for the ${what(target)}: ${status === undefined ? errorMessage(cause) : `HTTP ${status}`}`,
      cause === undefined ? undefined : { cause },
    );
  }
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

/** The source answered 200 with something that is not a usable factor: counts against the circuit. */
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
