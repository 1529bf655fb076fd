import { FallbackExhaustedError } from '@gl-vcci/breaker-core';
import { describe, expect, it } from 'vitest';
import * as errors from './errors.js';

describe('error guards', () => {
  it('recognise an error made by a second copy of the package, where instanceof fails', async () => {
    const second = './errors.js?copy=2';
    const other = (await import(second)) as typeof errors;
    const error = new other.EmailRequestError(400, 'bad');
    expect(error instanceof errors.EmailRequestError).toBe(false);
    expect(errors.isEmailRequestError(error)).toBe(true);
    expect(errors.isEmailError(error)).toBe(true);
  });

  it.each<[string, Error, (e: unknown) => boolean]>([
    ['EmailArgumentError', new errors.EmailArgumentError('bad', []), errors.isEmailArgumentError],
    ['EmailRequestError', new errors.EmailRequestError(400, ''), errors.isEmailRequestError],
    ['EmailUpstreamError', new errors.EmailUpstreamError(503, undefined, 'HTTP 503'), errors.isEmailUpstreamError],
    ['EmailQueueError', new errors.EmailQueueError('store the mail', new Error('ENOSPC')), errors.isEmailQueueError],
    [
      'EmailUnavailableError',
      new errors.EmailUnavailableError(new FallbackExhaustedError([])),
      errors.isEmailUnavailableError,
    ],
    ['EmailClosedError', new errors.EmailClosedError(), errors.isEmailClosedError],
  ])('%s has its guard, and isEmailError accepts it', (_, error, guard) => {
    expect(guard(error)).toBe(true);
    expect(errors.isEmailError(error)).toBe(true);
    expect(guard(new Error('other'))).toBe(false);
  });

  it('EmailUpstreamError says when the credentials were refused and keeps retryAfterMs for the breaker', () => {
    expect(new errors.EmailUpstreamError(403, undefined, 'x').credentialsRefused).toBe(true);
    expect(new errors.EmailUpstreamError(429, 7_000, 'x')).toMatchObject({
      credentialsRefused: false,
      retryAfterMs: 7_000,
    });
  });
});
