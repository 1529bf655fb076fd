import { afterEach, describe, expect, it } from 'vitest';
import { OPENAI_INSUFFICIENT_QUOTA, type OpenAISimulator, openaiRateLimit, startOpenAISimulator } from './openai.js';

let sim: OpenAISimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const post = (s: OpenAISimulator, body: unknown) =>
  fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('startOpenAISimulator', () => {
  it('answers a chat completion with the configured text and usage', async () => {
    sim = await startOpenAISimulator();
    sim.reply('hi', { prompt_tokens: 3, completion_tokens: 1 });
    const response = await post(sim, { model: 'gpt-5-mini', messages: [] });
    expect(await response.json()).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-5-mini',
      choices: [{ message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    });
    expect(sim.completions).toHaveLength(1);
  });

  it('streams data chunks, a usage chunk when asked, then [DONE]', async () => {
    sim = await startOpenAISimulator();
    sim.reply('a b', { prompt_tokens: 3, completion_tokens: 2 });
    const text = await (await post(sim, { model: 'm', stream: true, stream_options: { include_usage: true } })).text();
    const data = text
      .split('\n\n')
      .filter(Boolean)
      .map((event) => event.replace(/^data: /, ''));
    expect(data.at(-1)).toBe('[DONE]');
    expect(JSON.parse(data.at(-2)!)).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } });
    expect(data.slice(1, 3).map((d) => JSON.parse(d).choices[0].delta.content)).toEqual(['a ', 'b']);
  });

  it('cuts a stream after n chunks: no finish_reason, usage or [DONE]', async () => {
    sim = await startOpenAISimulator();
    sim.reply('a b c');
    sim.streamEnd({ cutAfter: 1 });
    const text = await (await post(sim, { model: 'm', stream: true, stream_options: { include_usage: true } })).text();
    expect(text).toContain('"content":"a "');
    expect(text).not.toMatch(/"finish_reason":"stop"|usage|\[DONE\]/);
  });

  it('sends the finish reason it is told', async () => {
    sim = await startOpenAISimulator();
    sim.stopReason('length');
    expect(await (await post(sim, { model: 'm' })).json()).toMatchObject({ choices: [{ finish_reason: 'length' }] });
  });

  it('tells a rate limit (retry-after-ms) from an exhausted quota by the error code', async () => {
    sim = await startOpenAISimulator();
    sim.mode('POST /v1/chat/completions', openaiRateLimit(1500));
    const limited = await post(sim, {});
    expect([limited.status, limited.headers.get('retry-after-ms'), limited.headers.get('retry-after')]).toEqual([
      429,
      '1500',
      '2',
    ]);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    sim.mode('POST /v1/chat/completions', OPENAI_INSUFFICIENT_QUOTA);
    const quota = await post(sim, {});
    expect(quota.status).toBe(429);
    expect(((await quota.json()) as { error: { code: string } }).error.code).toBe('insufficient_quota');
  });
});
