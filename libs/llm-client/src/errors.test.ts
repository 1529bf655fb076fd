import { inspect } from 'node:util';
import { anthropicError } from '@gl-vcci/upstreams/anthropic';
import { openaiError } from '@gl-vcci/upstreams/openai';
import { describe, expect, it } from 'vitest';
import { ANTHROPIC_KEY, CLAUDE_ROUTE, harness, OPENAI_KEY, OPENAI_ROUTE, PROMPT } from '../test/support.js';
import { isLlmRequestError, isLlmUnavailableError, LlmClosedError, LlmUnavailableError } from './errors.js';

describe('no secret in a thrown error', () => {
  // Some API gateways echo request headers back in their responses; the SDKs keep the response
  // headers and body on their errors.
  const echo = (key: string) => ({ 'x-echo-api-key': key, 'x-echo-authorization': `Bearer ${key}` });

  it('no API key is reachable from LlmUnavailableError, through every cause', async () => {
    const h = await harness();
    h.claude.mode(CLAUDE_ROUTE, anthropicError(401, 'authentication_error', echo(ANTHROPIC_KEY)));
    h.openai.mode(OPENAI_ROUTE, openaiError(503, 'server_error', null, echo(OPENAI_KEY)));
    const error = await h.client.generate(PROMPT).catch((e: unknown) => e);
    expect(isLlmUnavailableError(error)).toBe(true);
    const shown = inspect(error, { depth: null });
    expect(shown).toContain('claude refused the credentials (HTTP 401)');
    expect(shown).not.toContain('TESTSECRET');
  });

  it('no API key is reachable when the provider echoes it in its error body', async () => {
    const h = await harness();
    const message = `invalid x-api-key ${ANTHROPIC_KEY}`;
    h.claude.mode(CLAUDE_ROUTE, {
      status: 400,
      body: { type: 'error', error: { type: 'invalid_request_error', message } },
    });
    const error = await h.client.generate(PROMPT).catch((e: unknown) => e);
    expect(isLlmRequestError(error)).toBe(true);
    expect((error as Error).message).toContain('invalid x-api-key [redacted]');
    expect(inspect(error, { depth: null })).not.toContain('TESTSECRET');
  });

  it('no API key is reachable from LlmRequestError', async () => {
    const h = await harness();
    h.claude.mode(CLAUDE_ROUTE, anthropicError(400, 'invalid_request_error', echo(ANTHROPIC_KEY)));
    const error = await h.client.generate(PROMPT).catch((e: unknown) => e);
    expect(isLlmRequestError(error)).toBe(true);
    expect(inspect(error, { depth: null })).not.toContain('TESTSECRET');
  });
});

describe('guards', () => {
  it('recognise an error from a second copy of the package, where instanceof does not', async () => {
    const second = './errors.js?copy=2';
    const other = (await import(second)) as typeof import('./errors.js');
    const foreign = new other.LlmClosedError();
    expect(foreign instanceof LlmClosedError).toBe(false);
    expect(other.isLlmClosedError(new LlmClosedError())).toBe(true);
    const { isLlmClosedError, isLlmError } = await import('./errors.js');
    expect([isLlmClosedError(foreign), isLlmError(foreign), isLlmUnavailableError(foreign)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(new LlmUnavailableError(new (await import('@gl-vcci/breaker-core')).FallbackExhaustedError([])).code).toBe(
      'LLM_UNAVAILABLE',
    );
  });
});
