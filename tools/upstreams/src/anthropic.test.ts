import { afterEach, describe, expect, it } from 'vitest';
import { type AnthropicSimulator, anthropicError, startAnthropicSimulator } from './anthropic.js';

let sim: AnthropicSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const post = (s: AnthropicSimulator, body: unknown) =>
  fetch(`${s.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('startAnthropicSimulator', () => {
  it('answers a message with the configured text and usage, echoing the model', async () => {
    sim = await startAnthropicSimulator();
    sim.reply('hi there', { input_tokens: 3, output_tokens: 2 });
    const response = await post(sim, { model: 'claude-sonnet-4-6', max_tokens: 10, messages: [] });
    expect(await response.json()).toMatchObject({
      type: 'message',
      model: 'claude-sonnet-4-6',
      content: [{ type: 'text', text: 'hi there' }],
      usage: { input_tokens: 3, output_tokens: 2 },
    });
    expect(sim.messages).toHaveLength(1);
  });

  it('streams the real event sequence, usage in message_start and message_delta', async () => {
    sim = await startAnthropicSimulator();
    sim.reply('a b', { input_tokens: 3, output_tokens: 2 });
    const text = await (await post(sim, { model: 'm', stream: true })).text();
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(text).toContain('"usage":{"output_tokens":2}');
  });

  it('ends a stream with an error event after the first delta when told to', async () => {
    sim = await startAnthropicSimulator();
    sim.reply('a b c');
    sim.streamEnd({ error: { type: 'overloaded_error', message: 'Overloaded' } });
    const text = await (await post(sim, { model: 'm', stream: true })).text();
    expect(text.match(/content_block_delta/g)).toHaveLength(2);
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error"/);
  });

  it('cuts a stream after n deltas: the response ends without message_delta or message_stop', async () => {
    sim = await startAnthropicSimulator();
    sim.reply('a b c');
    sim.streamEnd({ cutAfter: 2 });
    const text = await (await post(sim, { model: 'm', stream: true })).text();
    expect(text.match(/event: content_block_delta/g)).toHaveLength(2);
    expect(text).not.toMatch(/message_delta|message_stop/);
  });

  it('sends the stop reason it is told, in the message and the stream', async () => {
    sim = await startAnthropicSimulator();
    sim.stopReason('max_tokens');
    expect(await (await post(sim, { model: 'm' })).json()).toMatchObject({ stop_reason: 'max_tokens' });
    expect(await (await post(sim, { model: 'm', stream: true })).text()).toContain('"stop_reason":"max_tokens"');
  });

  it('answers failures with the API error body and headers (529, 429 with retry-after)', async () => {
    sim = await startAnthropicSimulator();
    sim.mode('POST /v1/messages', anthropicError(429, 'rate_limit_error', { 'retry-after': '7' }));
    const response = await post(sim, {});
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'simulated rate_limit_error' },
    });
  });
});
