import { anthropicError } from '@gl-vcci/upstreams/anthropic';
import { describe, expect, it } from 'vitest';
import { CACHE_TTL_MS, CLAUDE_ROUTE, harness, PROMPT } from '../test/support.js';
import { TOKENS_METRIC } from './metrics.js';
import type { CachedCompletion, LlmResponseCache } from './types.js';

const CACHEABLE = { ...PROMPT, temperature: 0 };

describe('generate: response cache', () => {
  it('answers a repeated temperature-0 request from the cache: no upstream call, no tokens', async () => {
    const h = await harness();
    h.claude.reply('NACE C25.1', { input_tokens: 12, output_tokens: 5 });
    await h.client.generate(CACHEABLE);
    const tokensBefore = await h.metric(TOKENS_METRIC);
    const hit = await h.client.generate({ ...CACHEABLE });
    expect(hit).toEqual({
      text: 'NACE C25.1',
      provider: 'claude',
      model: 'claude-sonnet-4-6',
      usage: { inputTokens: 0, outputTokens: 0 },
      source: 'cache',
    });
    expect(h.claude.messages).toHaveLength(1);
    expect(await h.metric(TOKENS_METRIC)).toBe(tokensBefore);
  });

  it('does not cache a request with a temperature above 0 and no cacheKey', async () => {
    const h = await harness();
    await h.client.generate({ ...PROMPT, temperature: 0.7 });
    expect((await h.client.generate({ ...PROMPT, temperature: 0.7 })).source).toBe('live');
    expect(h.claude.messages).toHaveLength(2);
  });

  it('caches any temperature under an explicit cacheKey, which is part of the key', async () => {
    const h = await harness();
    await h.client.generate({ ...PROMPT, temperature: 0.7, cacheKey: 'supplier:acme' });
    expect((await h.client.generate({ ...PROMPT, temperature: 0.7, cacheKey: 'supplier:acme' })).source).toBe('cache');
    expect((await h.client.generate({ ...PROMPT, temperature: 0.7, cacheKey: 'supplier:other' })).source).toBe('live');
    expect(h.claude.messages).toHaveLength(2);
  });

  it('keys by the request, not the provider: an answer cached on failover serves later calls', async () => {
    const h = await harness();
    h.claude.mode(CLAUDE_ROUTE, anthropicError(529, 'overloaded_error'));
    expect((await h.client.generate(CACHEABLE)).source).toBe('failover');
    h.claude.mode(CLAUDE_ROUTE, 'healthy');
    expect(await h.client.generate({ prompt: PROMPT.prompt, maxTokens: 100, temperature: 0 })).toMatchObject({
      provider: 'openai',
      source: 'cache',
    });
    expect((await h.client.generate({ ...CACHEABLE, system: 'different' })).source).toBe('live');
  });

  it('serves an answer for the config cache_ttl (its last millisecond included), then asks again', async () => {
    const h = await harness();
    await h.client.generate(CACHEABLE);
    h.clock.advance(CACHE_TTL_MS);
    expect((await h.client.generate(CACHEABLE)).source).toBe('cache');
    h.clock.advance(1);
    expect((await h.client.generate(CACHEABLE)).source).toBe('live');
  });

  it('uses a pluggable store with the FactorCache shape, and its TTL', async () => {
    const stored = new Map<string, { value: CachedCompletion; ttlMs: number }>();
    const store: LlmResponseCache = {
      get: async (key) => stored.get(key)?.value,
      set: async (key, value, ttlMs) => void stored.set(key, { value, ttlMs }),
    };
    const h = await harness({ client: { cache: store, cacheTtlMs: 5_000 } });
    h.claude.reply('x', { input_tokens: 1, output_tokens: 1 });
    await h.client.generate(CACHEABLE);
    expect([...stored.values()]).toEqual([
      {
        value: {
          text: 'x',
          provider: 'claude',
          model: 'claude-sonnet-4-6',
          usage: { inputTokens: 1, outputTokens: 1 },
        },
        ttlMs: 5_000,
      },
    ]);
    expect([...stored.keys()][0]).toMatch(/^llm:v1:[0-9a-f]{64}$/);
    expect((await h.client.generate(CACHEABLE)).source).toBe('cache');
  });

  it('treats a failing store as a miss and answers live', async () => {
    const broken: LlmResponseCache = {
      get: () => Promise.reject(new Error('redis down')),
      set: () => Promise.reject(new Error('redis down')),
    };
    const h = await harness({ client: { cache: broken } });
    expect((await h.client.generate(CACHEABLE)).source).toBe('live');
  });

  it('caches nothing with cache: false', async () => {
    const h = await harness({ client: { cache: false } });
    await h.client.generate(CACHEABLE);
    expect((await h.client.generate(CACHEABLE)).source).toBe('live');
  });
});
