import { deferred, waitFor } from '@gl-vcci/breaker-core/testing';
import { describe, expect, it } from 'vitest';
import { breakerCalls, CALL_TIMEOUT_MS, harness, IDLE_TIMEOUT_MS, PROMPT } from '../test/support.js';
import { isLlmError, isLlmStreamIncompleteError } from './errors.js';
import { REQUESTS_METRIC } from './metrics.js';
import type { LlmStreamEvent } from './types.js';

const CACHEABLE = { ...PROMPT, temperature: 0 };

/** Every event until the stream ends, and the error it ended with (undefined when it completed). */
async function drain(stream: AsyncIterable<LlmStreamEvent>): Promise<{ events: LlmStreamEvent[]; error: unknown }> {
  const events: LlmStreamEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

describe('a stream cut short is not an answer', () => {
  it('anthropic: cut after the first text (no message_stop): LlmStreamIncompleteError, a failure, never cached', async () => {
    const h = await harness();
    h.claude.reply('NACE C25.1 fabricated metal');
    h.claude.streamEnd({ cutAfter: 2 });
    const { events, error } = await drain(h.client.stream(CACHEABLE));
    expect(events).toEqual([
      { type: 'text', text: 'NACE ' },
      { type: 'text', text: 'C25.1 ' },
    ]);
    expect(isLlmStreamIncompleteError(error)).toBe(true);
    expect(error).toMatchObject({ provider: 'claude', received: 11 });
    expect(h.openai.completions).toHaveLength(0);
    expect(await h.metric(REQUESTS_METRIC)).toContain('provider="claude",outcome="success"} 0');
    expect(await h.metric(REQUESTS_METRIC)).toContain('provider="claude",outcome="incomplete"} 1');
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ failure: 1 });
    h.claude.streamEnd('complete');
    expect((await h.client.generate(CACHEABLE)).source).toBe('live');
  });

  it('openai: cut after the first chunk (no finish_reason, no [DONE]): LlmStreamIncompleteError', async () => {
    const h = await harness();
    await h.claude.stop();
    h.openai.reply('a b c');
    h.openai.streamEnd({ cutAfter: 1 });
    const { events, error } = await drain(h.client.stream(PROMPT));
    expect(events).toEqual([{ type: 'text', text: 'a ' }]);
    expect(error).toMatchObject({ code: 'LLM_STREAM_INCOMPLETE', provider: 'openai' });
  });

  it('a cut before the first text fails over', async () => {
    const h = await harness();
    h.claude.streamEnd({ cutAfter: 0 });
    h.openai.reply('b c');
    const { events, error } = await drain(h.client.stream(PROMPT));
    expect(error).toBeUndefined();
    expect(events.at(-1)).toMatchObject({
      type: 'end',
      result: { provider: 'openai', source: 'failover', text: 'b c' },
    });
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ failure: 1 });
  });
});

describe('stop reasons', () => {
  it('generate and stream carry the provider’s stop reason', async () => {
    const h = await harness();
    h.claude.stopReason('max_tokens');
    expect((await h.client.generate(PROMPT)).stopReason).toBe('max_tokens');
    const { events } = await drain(h.client.stream(PROMPT));
    expect(events.at(-1)).toMatchObject({ result: { stopReason: 'max_tokens' } });
    await h.claude.stop();
    h.openai.stopReason('length');
    expect((await h.client.generate(PROMPT)).stopReason).toBe('length');
  });

  it('does not cache an answer stopped by max_tokens, unless the call asks with cacheIncomplete', async () => {
    const h = await harness();
    h.claude.stopReason('max_tokens');
    await h.client.generate(CACHEABLE);
    expect((await h.client.generate(CACHEABLE)).source).toBe('live');
    await drain(h.client.stream(CACHEABLE));
    expect((await h.client.generate(CACHEABLE)).source).toBe('live');
    await h.client.generate(CACHEABLE, { cacheIncomplete: true });
    expect(await h.client.generate(CACHEABLE)).toMatchObject({ source: 'cache', stopReason: 'max_tokens' });
  });

  it('does not cache an empty answer', async () => {
    const h = await harness();
    h.claude.reply('');
    expect(await h.client.generate(CACHEABLE)).toMatchObject({ text: '', source: 'live' });
    expect((await h.client.generate(CACHEABLE)).source).toBe('live');
  });
});

describe('long streams', () => {
  it('a stream that outlives call_timeout while text still flows completes: only its idle deadline bounds it', async () => {
    const h = await harness();
    const words = Array.from({ length: 14 }, (_, i) => `w${i} `);
    h.claude.reply(words.join(''));
    const gates = words.map(() => deferred());
    h.claude.pace((i) => gates[i]!.promise);
    const iterator = h.client.stream(PROMPT)[Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: { type: 'text', text: 'w0 ' } });
    const step = IDLE_TIMEOUT_MS - 100;
    for (let i = 1; i < words.length; i++) {
      const next = iterator.next();
      await waitFor(() => h.clock.pendingTimers > 0, 'the idle deadline to be armed');
      h.clock.advance(step);
      gates[i]!.resolve();
      expect(await next).toEqual({ done: false, value: { type: 'text', text: `w${i} ` } });
    }
    expect((words.length - 1) * step).toBeGreaterThan(CALL_TIMEOUT_MS);
    const end = await iterator.next();
    expect(end.value).toMatchObject({ type: 'end', result: { source: 'live', text: words.join('') } });
    expect(await breakerCalls(h.prom, 'claude')).toMatchObject({ success: 1, timeout: 0, failure: 0 });
  });

  it('every error a stream ends with is an LlmError, an idle timeout included', async () => {
    const h = await harness();
    h.claude.reply('a b');
    h.claude.streamEnd('stall');
    const iterator = h.client.stream(PROMPT)[Symbol.asyncIterator]();
    await iterator.next();
    const next = iterator.next().catch((e: unknown) => e);
    await waitFor(() => h.clock.pendingTimers > 0, 'the idle deadline to be armed');
    h.clock.advance(IDLE_TIMEOUT_MS);
    expect(isLlmError(await next)).toBe(true);
  });
});
