import { FallbackExhaustedError } from '@gl-vcci/breaker-core';
import { describe, expect, it } from 'vitest';
import { classifyErpError } from './classify.js';
import * as errors from './errors.js';

const target = { system: 'sap' as const, kind: 'suppliers' as const, page: 3 };

describe('error guards', () => {
  it('recognise an error made by a second copy of the package, where instanceof fails', async () => {
    const second = './errors.js?copy=2';
    const other = (await import(second)) as typeof errors;
    const error = new other.ErpRequestError(target, 400, '');
    expect(error instanceof errors.ErpRequestError).toBe(false);
    expect(errors.isErpRequestError(error)).toBe(true);
    expect(errors.isErpError(error)).toBe(true);
  });

  it.each<[string, Error, (e: unknown) => boolean]>([
    ['ErpArgumentError', new errors.ErpArgumentError('bad', []), errors.isErpArgumentError],
    ['ErpRequestError', new errors.ErpRequestError(target, 404, ''), errors.isErpRequestError],
    ['ErpUpstreamError', new errors.ErpUpstreamError(target, 502), errors.isErpUpstreamError],
    ['ErpRateLimitedError', new errors.ErpRateLimitedError(target, 429, 1), errors.isErpRateLimitedError],
    ['ErpMalformedError', new errors.ErpMalformedError(target, 'x'), errors.isErpMalformedError],
    [
      'ErpUnavailableError',
      new errors.ErpUnavailableError('sap', 'suppliers', new FallbackExhaustedError([])),
      errors.isErpUnavailableError,
    ],
    ['ErpPageError', new errors.ErpPageError(target, 'erp1.x', 2, new Error('x')), errors.isErpPageError],
    ['ErpClosedError', new errors.ErpClosedError(), errors.isErpClosedError],
  ])('%s has its guard, and isErpError accepts it', (_, error, guard) => {
    expect(guard(error)).toBe(true);
    expect(errors.isErpError(error)).toBe(true);
    expect(guard(new Error('other'))).toBe(false);
  });
});

describe('classifyErpError', () => {
  it.each<[string, unknown, string]>([
    ['HTTP 400/404/422 (the caller’s)', new errors.ErpRequestError(target, 422, ''), 'ignore'],
    ['a closed client', new errors.ErpClosedError(), 'ignore'],
    ['HTTP 5xx', new errors.ErpUpstreamError(target, 503), 'failure'],
    ['HTTP 401/403 (the deployment’s credentials)', new errors.ErpUpstreamError(target, 401), 'failure'],
    ['a connection error', new errors.ErpUpstreamError(target, undefined, new Error('ECONNRESET')), 'failure'],
    ['HTTP 429', new errors.ErpRateLimitedError(target, 429, 1_000), 'failure'],
    ['a malformed page', new errors.ErpMalformedError(target, 'not JSON'), 'failure'],
    ['anything else', new Error('?'), 'failure'],
  ])('%s → %s', (_, error, verdict) => {
    expect(classifyErpError(error)).toBe(verdict);
  });

  it('401/403 say credentials refused, naming the system', () => {
    const error = new errors.ErpUpstreamError(target, 403);
    expect(error.credentialsRefused).toBe(true);
    expect(error.message).toBe(
      'sap failed on page 3 of sap suppliers: credentials refused by sap (HTTP 403): check the ERP credentials',
    );
  });
});
