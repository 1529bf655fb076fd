import { type AnthropicSimulator, anthropicError, startAnthropicSimulator } from '@gl-vcci/upstreams/anthropic';
import {
  OPENAI_INSUFFICIENT_QUOTA,
  type OpenAISimulator,
  openaiError,
  openaiRateLimit,
  startOpenAISimulator,
} from '@gl-vcci/upstreams/openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyLlmError, QUOTA_RETRY_AFTER_MS, retryAfterMs, toProviderError } from './classify.js';
import { LlmProviderError, LlmRequestError } from './errors.js';
import { anthropicAdapter } from './providers/anthropic.js';
import { openaiAdapter } from './providers/openai.js';
import type { ProviderAdapter } from './providers/provider.js';

const REQUEST = { messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 10 };

let claude: AnthropicSimulator;
let openai: OpenAISimulator;
let claudeSdk: ProviderAdapter;
let openaiSdk: ProviderAdapter;
beforeAll(async () => {
  claude = await startAnthropicSimulator();
  openai = await startOpenAISimulator();
  claudeSdk = anthropicAdapter({ apiKey: 'k', baseURL: claude.url, timeoutMs: 5_000 });
  openaiSdk = openaiAdapter({ apiKey: 'k', baseURL: `${openai.url}/v1`, timeoutMs: 5_000 });
});
afterAll(async () => {
  await claude.close();
  await openai.close();
});

/** What the client makes of the error the real SDK throws: [class, kind, breaker classification, retryAfterMs]. */
async function verdict(provider: 'claude' | 'openai') {
  const adapter = provider === 'claude' ? claudeSdk : openaiSdk;
  const thrown = await adapter.complete(REQUEST, 'm', new AbortController().signal).then(
    () => undefined,
    (e: unknown) => e,
  );
  const error = toProviderError(provider, thrown, []);
  const kind = error instanceof LlmProviderError ? error.kind : 'rejected';
  const wait = error instanceof LlmProviderError ? error.retryAfterMs : undefined;
  return [error.constructor.name, kind, classifyLlmError(error), wait];
}

describe('the failure table, through the real SDKs', () => {
  it.each([
    [anthropicError(400, 'invalid_request_error'), 'LlmRequestError', 'rejected', 'ignore', undefined],
    [anthropicError(401, 'authentication_error'), 'LlmProviderError', 'auth', 'failure', undefined],
    [anthropicError(402, 'billing_error'), 'LlmProviderError', 'quota', 'failure', QUOTA_RETRY_AFTER_MS],
    [anthropicError(403, 'permission_error'), 'LlmProviderError', 'auth', 'failure', undefined],
    [anthropicError(404, 'not_found_error'), 'LlmRequestError', 'rejected', 'ignore', undefined],
    [anthropicError(413, 'request_too_large'), 'LlmRequestError', 'rejected', 'ignore', undefined],
    [anthropicError(422, 'invalid_request_error'), 'LlmRequestError', 'rejected', 'ignore', undefined],
    [anthropicError(408, 'timeout_error'), 'LlmProviderError', 'unavailable', 'failure', undefined],
    [
      anthropicError(429, 'rate_limit_error', { 'retry-after': '7' }),
      'LlmProviderError',
      'rate_limited',
      'failure',
      7_000,
    ],
    [anthropicError(500, 'api_error'), 'LlmProviderError', 'unavailable', 'failure', undefined],
    [anthropicError(503, 'api_error', { 'retry-after': '3' }), 'LlmProviderError', 'unavailable', 'failure', 3_000],
    [anthropicError(529, 'overloaded_error'), 'LlmProviderError', 'unavailable', 'failure', undefined],
    ['reset' as const, 'LlmProviderError', 'unavailable', 'failure', undefined],
  ])('anthropic %j → %s %s (%s)', async (mode, name, kind, classification, wait) => {
    claude.mode('POST /v1/messages', mode);
    expect(await verdict('claude')).toEqual([name, kind, classification, wait]);
  });

  it.each([
    [openaiError(400, 'invalid_request_error', null), 'LlmRequestError', 'rejected', 'ignore', undefined],
    [openaiError(401, 'invalid_request_error', 'invalid_api_key'), 'LlmProviderError', 'auth', 'failure', undefined],
    [openaiRateLimit(1_500), 'LlmProviderError', 'rate_limited', 'failure', 1_500],
    [OPENAI_INSUFFICIENT_QUOTA, 'LlmProviderError', 'quota', 'failure', QUOTA_RETRY_AFTER_MS],
    [openaiError(503, 'server_error', null), 'LlmProviderError', 'unavailable', 'failure', undefined],
  ])('openai %j → %s %s (%s)', async (mode, name, kind, classification, wait) => {
    openai.mode('POST /v1/chat/completions', mode);
    expect(await verdict('openai')).toEqual([name, kind, classification, wait]);
  });

  it('makes a refused connection unavailable, a failure', async () => {
    const dead = anthropicAdapter({ apiKey: 'k', baseURL: 'http://127.0.0.1:9', timeoutMs: 5_000 });
    const thrown = await dead.complete(REQUEST, 'm', new AbortController().signal).catch((e: unknown) => e);
    const error = toProviderError('claude', thrown, []) as LlmProviderError;
    expect([error.kind, classifyLlmError(error)]).toEqual(['unavailable', 'failure']);
  });

  it('makes a caller abort cancelled, which the circuit ignores', async () => {
    claude.mode('POST /v1/messages', 'hang');
    const controller = new AbortController();
    const pending = claudeSdk.complete(REQUEST, 'm', controller.signal).catch((e: unknown) => e);
    controller.abort();
    const error = toProviderError('claude', await pending, []) as LlmProviderError;
    expect([error.kind, classifyLlmError(error)]).toEqual(['cancelled', 'ignore']);
  });

  it('counts unknown errors as failures and passes its own errors through', () => {
    expect(classifyLlmError(new TypeError('bug'))).toBe('failure');
    const rejected = new LlmRequestError('claude', 400, undefined, new Error('x'));
    expect(toProviderError('claude', rejected, [])).toBe(rejected);
  });
});

describe('retryAfterMs', () => {
  const at = (headers: Record<string, string>) => retryAfterMs({ headers: new Headers(headers) }, 1_000_000);
  it('prefers retry-after-ms, then retry-after in seconds or as an HTTP date', () => {
    expect(at({ 'retry-after-ms': '1500.2', 'retry-after': '9' })).toBe(1_501);
    expect(at({ 'retry-after': '9' })).toBe(9_000);
    expect(at({ 'retry-after': new Date(1_000_000 + 20_000).toUTCString() })).toBe(20_000);
  });
  it('ignores absent, invalid or past hints, and caps at the timer limit', () => {
    expect(at({})).toBeUndefined();
    expect(at({ 'retry-after': 'soon' })).toBeUndefined();
    expect(at({ 'retry-after': '-3' })).toBeUndefined();
    expect(at({ 'retry-after': '99999999999' })).toBe(2_147_483_647);
  });
});
