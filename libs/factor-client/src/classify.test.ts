import { describe, expect, it } from 'vitest';
import { classifyFactorError } from './classify.js';
import {
  FactorClosedError,
  FactorMalformedError,
  FactorMismatchError,
  FactorNotFoundError,
  FactorRateLimitedError,
  FactorRequestError,
  FactorUpstreamError,
} from './errors.js';

const target = { source: 'epa', activity: 'natural_gas', region: 'US' };

describe('classifyFactorError', () => {
  it.each([
    ['a connection error', new FactorUpstreamError(target, undefined, new Error('connect ECONNREFUSED')), 'failure'],
    ['HTTP 5xx', new FactorUpstreamError(target, 502), 'failure'],
    ['HTTP 401', new FactorUpstreamError(target, 401), 'failure'],
    ['HTTP 403', new FactorUpstreamError(target, 403), 'failure'],
    ['HTTP 429', new FactorRateLimitedError(target, 429, 1_000), 'failure'],
    ['a malformed answer', new FactorMalformedError(target, 'the body is not JSON'), 'failure'],
    ['an unknown error', new Error('boom'), 'failure'],
    ['HTTP 404', new FactorNotFoundError(target, ''), 'ignore'],
    ['HTTP 400', new FactorRequestError(target, 400, 'bad region'), 'ignore'],
    ['an answer for another unit', new FactorMismatchError(target, 'unit: expected "a", got "b"'), 'ignore'],
    ['a call cut by close()', new FactorClosedError(), 'ignore'],
  ])('%s → %s', (_, error, verdict) => {
    expect(classifyFactorError(error)).toBe(verdict);
  });
});
