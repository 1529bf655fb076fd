import { flushPromises, waitFor } from '@gl-vcci/breaker-core/testing';
import { describe, expect, it } from 'vitest';
import {
  breakerCalls,
  CLAUDE_ROUTE,
  FIRST_TOKEN_TIMEOUT_MS,
  harness,
  IDLE_TIMEOUT_MS,
  PROMPT,
} from '../test/support.js';
import { LlmStreamTimeoutError } from './errors.js';
import { REQUESTS_METRIC, TOKENS_METRIC } from './metrics.js';
import type { LlmStreamEvent } from './types.js';

async function collect(stream: AsyncIterable<LlmStreamEvent>): Promise<LlmStreamEvent[]> {
  const events: LlmStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('stream', () => {
  it('yields the text as it arrives, then the result with the usage of the stream', async () => {
    const h = await harness();
    h.claude.reply('NACE C25.1 fabricated metal', { input_tokens: 12, output_tokens: 5 });
    const events = await collect(h.client.stream(PROMPT));
    expect(events).toEqual([
      { type: 'text', text: 'NACE ' },
      { type: 'text', text: 'C25.1 ' },
      { type: 'text', text: 'fabricated ' },
      { type: 'text', text: 'metal' },
      {
        type: 'end',
        result: {
          text: 'NACE C25.1 fabricated metal',
          provider: 'claude',
          model: 'claude-sonnet-4-6',
          usage: { inputTokens: 12, outputTokens: 5 },
          stopReason: 'end_turn',
          source: 'live',
        },
      },
    ]);
    expect(await h.metric(TOKENS_METRIC)).toContain('provider="claude",model="claude-sonnet-4-6",kind="output"} 5');
  });

  it('streams from openai with its usage chunk', async () => {
    const h = await harness();
    await h.claude.stop();
    h.openai.reply('b c', { prompt_tokens: 3, completion_tokens: 2 });
    const events = await collect(h.client.stream(PROMPT));
    expect(events.at(-1)).toEqual({
      type: 'end',
      result: {
        text: 'b c',
        provider: 'openai',
        model: 'gpt-5-mini',
        usage: { inputTokens: 3, outputTokens: 2 },
        stopReason: 'stop',
        source: 'failover',
      },
    });
    expect(h.openai.completions[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('fails over when no text comes within the first-token deadline, and counts it as a failure', async () => {
    const h = await harness();
    h.claude.mode(CLAUDE_ROUTE, 'hang');
    const iterator = h.client.stream(PROMPT)[Symbol.asyncIterator]();
    const first = iterator.next();
    await waitFor(() => h.claude.messages.length === 1, 'the request to reach the anthropic simulator');
    h.clock.advance(FIRST_TOKEN_TIMEOUT_MS);
    expect(await first).toEqual({ done: false, value: { type: 'text', text: 'hello ' } });
    const rest = await collect({ [Symbol.asyncIterator]: () => iterator });
    expect(rest.at(-1)).toMatchObject({ type: 'end', result: { provider: 'openai', source: 'failover' } });
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ failure: 1 });
    expect(await h.metric(REQUESTS_METRIC)).toContain('provider="claude",outcome="timeout"} 1');
  });

  it('ends with LlmStreamTimeoutError when the stream goes idle after the first text: no failover', async () => {
    const h = await harness();
    h.claude.reply('a b c');
    h.claude.streamEnd('stall');
    const iterator = h.client.stream(PROMPT)[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: { type: 'text', text: 'a ' } });
    const next = iterator.next();
    await flushPromises();
    h.clock.advance(IDLE_TIMEOUT_MS);
    const error = await next.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmStreamTimeoutError);
    expect(error).toMatchObject({ code: 'LLM_STREAM_TIMEOUT', provider: 'claude', phase: 'idle', timeoutMs: 500 });
    expect(h.openai.completions).toHaveLength(0);
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ failure: 1 });
  });

  it('counts an error event after a 200 as a failure, and ends the stream once text was sent', async () => {
    const h = await harness();
    h.claude.reply('a b c');
    h.claude.streamEnd({ error: { type: 'overloaded_error', message: 'Overloaded' } });
    const events: LlmStreamEvent[] = [];
    const error = await (async () => {
      for await (const event of h.client.stream(PROMPT)) events.push(event);
    })().catch((e: unknown) => e);
    expect(events).toEqual([{ type: 'text', text: 'a ' }]);
    expect(error).toMatchObject({ code: 'LLM_PROVIDER_FAILED', provider: 'claude', kind: 'unavailable' });
    expect(h.openai.completions).toHaveLength(0);
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ failure: 1 });
  });

  it('cancels the upstream request when the caller stops reading, counting no failure', async () => {
    const h = await harness();
    h.claude.reply('a b c');
    h.claude.streamEnd('stall');
    for await (const event of h.client.stream(PROMPT)) {
      expect(event).toEqual({ type: 'text', text: 'a ' });
      break;
    }
    // The circuit saw the stream open (its first text): the provider answered.
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ failure: 0, success: 1, timeout: 0 });
    expect(await h.metric(REQUESTS_METRIC)).toContain('provider="claude",outcome="cancelled"} 1');
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('serves a cached answer as one text and an end, without a request', async () => {
    const h = await harness();
    const request = { ...PROMPT, temperature: 0 };
    await h.client.generate(request);
    const events = await collect(h.client.stream(request));
    expect(events.map((e) => e.type)).toEqual(['text', 'end']);
    expect(events[1]).toMatchObject({ result: { source: 'cache', usage: { inputTokens: 0, outputTokens: 0 } } });
    expect(h.claude.messages).toHaveLength(1);
  });
});
