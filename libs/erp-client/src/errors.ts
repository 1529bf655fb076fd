import { BreakerCoreError, errorMessage, type FallbackExhaustedError, type Issue } from '@gl-vcci/breaker-core';
import { codeGuard } from '@gl-vcci/breaker-core/client';
import type { ErpListKind, ErpSystem } from './types.js';

/**
 * Base of the errors this client raises at run time: a stable `code` to branch on (through the
 * `isErp…Error` guards, which hold across two copies of this package). Invalid options are
 * breaker-core's ConfigError.
 */
export abstract class ErpError extends BreakerCoreError {}

/** What a page was about, carried by every per-page error. */
export interface PageTarget {
  system: ErpSystem;
  kind: ErpListKind;
  /** 1-based page number within the walk. */
  page: number;
}

const what = (t: PageTarget) =>
  `page ${t.page} of ${t.system} ${t.kind === 'suppliers' ? 'suppliers' : 'purchase orders'}`;

/** A call was made wrongly (a bad system, filter, date or cursor); `issues` names every bad field. Nothing was sent. */
export class ErpArgumentError extends ErpError {
  readonly code = 'ERP_INVALID_ARGUMENT';
  constructor(
    message: string,
    readonly issues: readonly Issue[],
  ) {
    super(message);
  }
}

/**
 * The system refused the request as the caller's mistake (HTTP 400, 404, 422 and other 4xx but
 * 401/403/408/429): never counted against the circuit, never hidden by a cached list.
 */
export class ErpRequestError extends ErpError {
  readonly code = 'ERP_REQUEST_REJECTED';
  constructor(
    readonly target: PageTarget,
    readonly status: number,
    detail: string,
  ) {
    super(`${target.system} rejected the request for ${what(target)}: HTTP ${status}${detail ? ` ${detail}` : ''}`);
  }
}

/**
 * The system (or its token endpoint) could not be reached, failed (5xx, 408) or refused the
 * deployment's credentials (401, 403): counts against the circuit. `cause` is the SDK's error
 * detached from its request and headers.
 */
export class ErpUpstreamError extends ErpError {
  readonly code = 'ERP_UPSTREAM_FAILED';
  constructor(
    readonly target: PageTarget,
    readonly status: number | undefined,
    cause?: unknown,
    /** Where it failed when not on the system itself (`the OAuth2 token endpoint`). */
    readonly where?: string,
    /** The credentials were refused whatever the status (an OAuth2 token endpoint answers 400 `invalid_grant`). */
    private readonly refusedCredentials = false,
  ) {
    super(
      `${target.system} failed on ${what(target)}: ${where ? `${where}: ` : ''}${describe(target.system, status, cause, refusedCredentials)}`,
      cause === undefined ? undefined : { cause },
    );
  }

  /** HTTP 401 or 403: the deployment's credentials are wrong, expired for good or revoked. */
  get credentialsRefused(): boolean {
    return this.refusedCredentials || this.status === 401 || this.status === 403;
  }
}

function describe(system: string, status: number | undefined, cause: unknown, refused: boolean): string {
  if (status === undefined) return errorMessage(cause);
  if (refused || status === 401 || status === 403)
    return `credentials refused by ${system} (HTTP ${status}): check the ERP credentials`;
  return `HTTP ${status}`;
}

/** The system answered 429 (or 503 with Retry-After): counts against the circuit; retries wait at least `retryAfterMs`. */
export class ErpRateLimitedError extends ErpError {
  readonly code = 'ERP_RATE_LIMITED';
  constructor(
    readonly target: PageTarget,
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(
      `${target.system} rate-limited ${what(target)}: HTTP ${status}${retryAfterMs === undefined ? '' : `, retry after ${retryAfterMs} ms`}`,
    );
  }
}

/** The system answered 200 with something that is not a page (not JSON, no records array, a record it cannot read): counts against the circuit. */
export class ErpMalformedError extends ErpError {
  readonly code = 'ERP_MALFORMED_RESPONSE';
  constructor(
    readonly target: PageTarget,
    readonly reason: string,
  ) {
    super(`${target.system} sent an unusable answer for ${what(target)}: ${reason}`);
  }
}

/**
 * A fetch could not complete live and no complete earlier list was fresh enough: the message says
 * why for each step (live, cache, stale); `cause` is breaker-core's FallbackExhaustedError.
 */
export class ErpUnavailableError extends ErpError {
  readonly code = 'ERP_UNAVAILABLE';
  constructor(
    readonly system: ErpSystem,
    readonly kind: ErpListKind,
    cause: FallbackExhaustedError,
    reasons: Readonly<Record<string, string | undefined>> = {},
  ) {
    const steps = cause.errors.map(({ source, error }) => `${source}: ${reasons[source] ?? errorMessage(error)}`);
    super(
      `No complete ${system} ${kind === 'suppliers' ? 'supplier' : 'purchase-order'} list available: ${steps.join('; ')}`,
      {
        cause,
      },
    );
  }
}

/**
 * A `pages()` walk stopped on a page that failed for good. `cursor` resumes the walk at that page
 * (`pages(system, kind, query, { cursor })`); `pagesRead` were delivered before it.
 */
export class ErpPageError extends ErpError {
  readonly code = 'ERP_PAGE_FAILED';
  constructor(
    readonly target: PageTarget,
    readonly cursor: string,
    readonly pagesRead: number,
    cause: unknown,
  ) {
    super(
      `${target.system} walk stopped at ${what(target)} (${pagesRead} read): ${errorMessage(cause)}; resume with its cursor`,
      {
        cause,
      },
    );
  }
}

/** The client was closed: calls after `close()`, and those still running when it was called. */
export class ErpClosedError extends ErpError {
  readonly code = 'ERP_CLOSED';
  constructor() {
    super('The ERP client is closed');
  }
}

export const isErpArgumentError = codeGuard<ErpArgumentError>('ERP_INVALID_ARGUMENT');
export const isErpRequestError = codeGuard<ErpRequestError>('ERP_REQUEST_REJECTED');
export const isErpUpstreamError = codeGuard<ErpUpstreamError>('ERP_UPSTREAM_FAILED');
export const isErpRateLimitedError = codeGuard<ErpRateLimitedError>('ERP_RATE_LIMITED');
export const isErpMalformedError = codeGuard<ErpMalformedError>('ERP_MALFORMED_RESPONSE');
export const isErpUnavailableError = codeGuard<ErpUnavailableError>('ERP_UNAVAILABLE');
export const isErpPageError = codeGuard<ErpPageError>('ERP_PAGE_FAILED');
export const isErpClosedError = codeGuard<ErpClosedError>('ERP_CLOSED');
/** Any error of this client. */
export const isErpError = codeGuard<ErpError>(
  'ERP_INVALID_ARGUMENT',
  'ERP_REQUEST_REJECTED',
  'ERP_UPSTREAM_FAILED',
  'ERP_RATE_LIMITED',
  'ERP_MALFORMED_RESPONSE',
  'ERP_UNAVAILABLE',
  'ERP_PAGE_FAILED',
  'ERP_CLOSED',
);
