import { FallbackExhaustedError } from '@gl-vcci/breaker-core';
import { describe, expect, it } from 'vitest';
import * as errors from './errors.js';

const target = { source: 'epa', activity: 'natural_gas', region: 'US' };

describe('error guards', () => {
  it('recognise an error made by a second copy of the package, where instanceof fails', async () => {
    const second = './errors.js?copy=2';
    const other = (await import(second)) as typeof errors;
    const error = new other.FactorNotFoundError(target, '');
    expect(error instanceof errors.FactorNotFoundError).toBe(false);
    expect(errors.isFactorNotFoundError(error)).toBe(true);
    expect(errors.isFactorRequestError(error)).toBe(true);
    expect(errors.isFactorError(error)).toBe(true);
  });

  it.each<[string, Error, (e: unknown) => boolean]>([
    ['FactorArgumentError', new errors.FactorArgumentError('bad', []), errors.isFactorArgumentError],
    ['FactorRequestError', new errors.FactorRequestError(target, 400, ''), errors.isFactorRequestError],
    ['FactorNotFoundError', new errors.FactorNotFoundError(target, ''), errors.isFactorNotFoundError],
    ['FactorMismatchError', new errors.FactorMismatchError(target, 'unit'), errors.isFactorMismatchError],
    ['FactorUpstreamError', new errors.FactorUpstreamError(target, 502), errors.isFactorUpstreamError],
    ['FactorRateLimitedError', new errors.FactorRateLimitedError(target, 429, 1), errors.isFactorRateLimitedError],
    ['FactorMalformedError', new errors.FactorMalformedError(target, 'x'), errors.isFactorMalformedError],
    [
      'FactorUnavailableError',
      new errors.FactorUnavailableError(target, new FallbackExhaustedError([])),
      errors.isFactorUnavailableError,
    ],
    ['FactorClosedError', new errors.FactorClosedError(), errors.isFactorClosedError],
  ])('%s has its guard, and isFactorError accepts it', (_, error, guard) => {
    expect(guard(error)).toBe(true);
    expect(errors.isFactorError(error)).toBe(true);
    expect(guard(new Error('other'))).toBe(false);
  });

  it('the request guard accepts its subclasses, not the failures', () => {
    expect(errors.isFactorRequestError(new errors.FactorMismatchError(target, 'unit'))).toBe(true);
    expect(errors.isFactorRequestError(new errors.FactorUpstreamError(target, 401))).toBe(false);
  });

  it('keeps retryAfterMs on FactorRateLimitedError, for the breaker', () => {
    expect(new errors.FactorRateLimitedError(target, 429, 120_000).retryAfterMs).toBe(120_000);
  });
});
