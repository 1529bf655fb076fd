import { CircuitOpenError, isFallbackExhaustedError } from '@gl-vcci/breaker-core';
import { waitFor } from '@gl-vcci/breaker-core/testing';
import { anthropicError } from '@gl-vcci/upstreams/anthropic';
import { OPENAI_INSUFFICIENT_QUOTA, openaiError } from '@gl-vcci/upstreams/openai';
import { describe, expect, it } from 'vitest';
import {
  breakerCalls,
  CALL_TIMEOUT_MS,
  CLAUDE_ROUTE,
  harness,
  OPEN_DURATION_MS,
  OPENAI_ROUTE,
  PROMPT,
} from '../test/support.js';
import { isLlmRequestError, type LlmProviderError, LlmRequestError, LlmUnavailableError } from './errors.js';

describe('generate: primary and failover', () => {
  it('answers from the primary, live, with its usage', async () => {
    const h = await harness();
    h.claude.reply('NACE C25.1', { input_tokens: 12, output_tokens: 5 });
    const result = await h.client.generate({ ...PROMPT, system: 'Answer with a NACE code.' });
    expect(result).toEqual({
      text: 'NACE C25.1',
      provider: 'claude',
      model: 'claude-sonnet-4-6',
      usage: { inputTokens: 12, outputTokens: 5 },
      stopReason: 'end_turn',
      source: 'live',
    });
    expect(h.claude.messages[0]!.body).toMatchObject({
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      system: 'Answer with a NACE code.',
      messages: [{ role: 'user', content: PROMPT.prompt }],
    });
    expect(h.openai.completions).toHaveLength(0);
  });

  it('fails over to openai while anthropic refuses connections, then skips it once its circuit opens', async () => {
    const h = await harness();
    await h.claude.stop();
    for (let i = 0; i < 2; i++) {
      const result = await h.client.generate(PROMPT);
      expect([result.provider, result.source, result.model]).toEqual(['openai', 'failover', 'gpt-5-mini']);
    }
    expect(h.breaker('claude').state).toBe('open');
    const third = await h.client.generate(PROMPT);
    expect(third.source).toBe('failover');
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ failure: 2, rejected: 1 });
    expect(h.openai.completions[0]!.body).toMatchObject({
      model: 'gpt-5-mini',
      max_completion_tokens: 100,
      messages: [{ role: 'user', content: PROMPT.prompt }],
    });
  });

  it('fails over on 529 overloaded, which counts as a failure, after exactly one request', async () => {
    const h = await harness();
    h.claude.mode(CLAUDE_ROUTE, anthropicError(529, 'overloaded_error'));
    const result = await h.client.generate(PROMPT);
    expect([result.provider, result.source]).toEqual(['openai', 'failover']);
    expect(h.claude.messages).toHaveLength(1);
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ failure: 1 });
  });

  it('fails over when the primary hangs past the call deadline', async () => {
    const h = await harness();
    h.claude.mode(CLAUDE_ROUTE, 'hang');
    const pending = h.client.generate(PROMPT);
    await waitFor(() => h.claude.messages.length === 1, 'the request to reach the anthropic simulator');
    h.clock.advance(CALL_TIMEOUT_MS);
    const result = await pending;
    expect(result.source).toBe('failover');
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ timeout: 1 });
  });

  it('429 storm: fails over, and the circuit stays open as long as Retry-After says, not the SDK', async () => {
    const h = await harness();
    h.claude.mode(CLAUDE_ROUTE, anthropicError(429, 'rate_limit_error', { 'retry-after': '120' }));
    for (let i = 0; i < 2; i++) expect((await h.client.generate(PROMPT)).source).toBe('failover');
    // The SDK neither retried nor slept on the hint: one request per attempt, and the call came back.
    expect(h.claude.messages).toHaveLength(2);
    expect(h.claude.messages.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '0']);
    const claude = h.breaker('claude');
    expect(claude.state).toBe('open');
    expect(claude.snapshot().nextTrialAt! - h.clock.now()).toBe(120_000);

    h.clock.advance(OPEN_DURATION_MS);
    expect(claude.state).toBe('open'); // the plain open duration would have ended here
    expect((await h.client.generate(PROMPT)).source).toBe('failover');
    expect(h.claude.messages).toHaveLength(2);

    h.claude.mode(CLAUDE_ROUTE, 'healthy');
    h.clock.advance(120_000 - OPEN_DURATION_MS);
    expect(claude.state).toBe('half_open');
    expect((await h.client.generate(PROMPT)).source).toBe('live');
    expect(claude.state).toBe('closed');
  });

  it('takes openai retry-after-ms over retry-after', async () => {
    const h = await harness({
      yaml: `
llm_providers:
  claude: { fail_max: 1, window_calls: 5 }
  openai: { failover: claude, fail_max: 1, window_calls: 5 }
`,
    });
    h.openai.mode(OPENAI_ROUTE, {
      status: 429,
      headers: { 'retry-after-ms': '90500', 'retry-after': '1' },
      body: { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
    });
    const result = await h.client.generate(PROMPT);
    expect([result.provider, result.source]).toEqual(['claude', 'failover']);
    expect(h.breaker('openai').snapshot().nextTrialAt! - h.clock.now()).toBe(90_500);
  });

  it('does not fail over on 400: the caller gets LlmRequestError and no circuit counts it', async () => {
    const h = await harness();
    h.claude.mode(CLAUDE_ROUTE, anthropicError(400, 'invalid_request_error'));
    const error = await h.client.generate(PROMPT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmRequestError);
    expect(error).toMatchObject({
      code: 'LLM_REQUEST_REJECTED',
      provider: 'claude',
      status: 400,
      message: expect.stringContaining('claude rejected the request (HTTP 400)'),
    });
    expect(h.openai.completions).toHaveLength(0);
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ ignored: 1, failure: 0 });
  });

  it.each([
    [401, 'authentication_error'],
    [403, 'permission_error'],
  ])(
    'credentials refused (%i): a failure that opens the circuit, failed over, logged at error naming the provider',
    async (status, type) => {
      const h = await harness({ capture: true });
      h.claude.mode(CLAUDE_ROUTE, anthropicError(status, type));
      for (let i = 0; i < 3; i++) expect((await h.client.generate(PROMPT)).source).toBe('failover');
      expect(h.breaker('claude').state).toBe('open');
      expect(h.claude.messages).toHaveLength(2); // the third went straight to openai
      expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ failure: 2, ignored: 0, rejected: 1 });
      const errors = h.lines.filter((l) => l.level === 50);
      expect(errors).toHaveLength(2);
      expect(errors[0]).toMatchObject({
        provider: 'claude',
        status,
        msg: `credentials refused by claude (HTTP ${status}): check the API key and its permissions`,
      });
    },
  );

  it('a 400 from the failover names the outage of the provider that sent the request there', async () => {
    const h = await harness();
    h.claude.mode(CLAUDE_ROUTE, anthropicError(503, 'api_error'));
    h.openai.mode(OPENAI_ROUTE, openaiError(400, 'invalid_request_error', null));
    const error = (await h.client.generate(PROMPT).catch((e: unknown) => e)) as LlmRequestError;
    expect(isLlmRequestError(error)).toBe(true);
    expect(error.message).toMatch(
      /^openai rejected the request \(HTTP 400\) after claude failed \(claude unavailable \(HTTP 503\)\)/,
    );
    expect(error.after.map((a) => a.provider)).toEqual(['claude']);
  });

  it('opens openai for the maximum duration on insufficient_quota and logs a billing problem', async () => {
    const h = await harness({
      capture: true,
      yaml: `
llm_providers:
  claude: { fail_max: 1, window_calls: 5 }
  openai: { failover: claude, fail_max: 1, window_calls: 5, timeout_duration: 30, max_open_duration: 900 }
`,
    });
    h.openai.mode(OPENAI_ROUTE, OPENAI_INSUFFICIENT_QUOTA);
    expect((await h.client.generate(PROMPT)).source).toBe('failover');
    expect(h.breaker('openai').snapshot().nextTrialAt! - h.clock.now()).toBe(900_000);
    expect(h.lines.find((l) => l.level === 50)).toMatchObject({
      provider: 'openai',
      status: 429,
      msg: expect.stringContaining('billing problem'),
    });
  });

  it('rejects with LlmUnavailableError naming each provider when both fail, then with both circuits open', async () => {
    const h = await harness();
    await h.claude.stop();
    h.openai.mode(OPENAI_ROUTE, { status: 503 });
    const error = (await h.client.generate(PROMPT).catch((e: unknown) => e)) as LlmUnavailableError;
    expect(error).toBeInstanceOf(LlmUnavailableError);
    expect(error.code).toBe('LLM_UNAVAILABLE');
    expect(isFallbackExhaustedError(error.cause)).toBe(true);
    expect(error.errors.map((e) => [e.provider, (e.error as LlmProviderError).kind])).toEqual([
      ['claude', 'unavailable'],
      ['openai', 'unavailable'],
    ]);
    await h.client.generate(PROMPT).catch(() => {});
    const refused = (await h.client.generate(PROMPT).catch((e: unknown) => e)) as LlmUnavailableError;
    expect(refused.errors.map((e) => e.error instanceof CircuitOpenError)).toEqual([true, true]);
  });

  it('a caller abort rejects with its reason, never fails over and never counts', async () => {
    const h = await harness();
    h.claude.mode(CLAUDE_ROUTE, 'hang');
    const controller = new AbortController();
    const pending = h.client.generate(PROMPT, { signal: controller.signal });
    await waitFor(() => h.claude.messages.length === 1, 'the request to reach the anthropic simulator');
    const reason = new Error('user navigated away');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(h.openai.completions).toHaveLength(0);
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ failure: 0, timeout: 0, success: 0 });
  });
});
