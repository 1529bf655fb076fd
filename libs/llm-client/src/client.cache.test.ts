import type { KeyValueStore } from '@gl-vcci/breaker-core/client';
import { flushPromises, track, waitFor } from '@gl-vcci/breaker-core/testing';
import { anthropicError } from '@gl-vcci/upstreams/anthropic';
import { describe, expect, it } from 'vitest';
import { ANTHROPIC_KEY, CACHE_TTL_MS, CLAUDE_ROUTE, harness, PROMPT } from '../test/support.js';
import { createLlmClient } from './client.js';
import { TOKENS_METRIC } from './metrics.js';
import type { CachedCompletion } from './types.js';

type Store = KeyValueStore<CachedCompletion>;
/** A store whose reads or writes never answer: a cache server that hangs. */
const hanging = (which: 'get' | 'set', base: Store = mapStore()): Store => ({
  get: which === 'get' ? () => new Promise(() => {}) : base.get.bind(base),
  set: which === 'set' ? () => new Promise(() => {}) : base.set.bind(base),
});
function mapStore(): Store & { map: Map<string, CachedCompletion> } {
  const map = new Map<string, CachedCompletion>();
  return { map, get: async (k) => map.get(k), set: async (k, v) => void map.set(k, v) };
}

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
      stopReason: 'end_turn',
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
    const store: Store = {
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
          stopReason: 'end_turn',
        },
        ttlMs: 5_000,
      },
    ]);
    expect([...stored.keys()][0]).toMatch(/^llm:v2:[0-9a-f]{64}$/);
    expect((await h.client.generate(CACHEABLE)).source).toBe('cache');
  });

  it('treats a failing store as a miss and answers live', async () => {
    const broken: Store = {
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

  it('keeps at most local.maxEntries answers in the default in-process store', async () => {
    const h = await harness({ client: { local: { maxEntries: 1 } } });
    await h.client.generate({ ...CACHEABLE, system: 'a' });
    await h.client.generate({ ...CACHEABLE, system: 'b' });
    expect((await h.client.generate({ ...CACHEABLE, system: 'a' })).source).toBe('live');
    expect((await h.client.generate({ ...CACHEABLE, system: 'a' })).source).toBe('cache');
  });
});

describe('a cache never costs an outage', () => {
  it('a store whose read hangs is a miss after cacheReadTimeoutMs', async () => {
    const h = await harness({ client: { cache: hanging('get'), cacheReadTimeoutMs: 200 } });
    const pending = track(h.client.generate(CACHEABLE));
    await flushPromises();
    h.clock.advance(200);
    await waitFor(() => pending.status !== 'pending', 'generate to settle');
    expect(pending.value?.source).toBe('live');
  });

  it('a caller abort ends a hanging cache read at once, with its reason', async () => {
    const h = await harness({ client: { cache: hanging('get') } });
    const controller = new AbortController();
    const pending = h.client.generate(CACHEABLE, { signal: controller.signal });
    const reason = new Error('user left');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(h.claude.messages).toHaveLength(0);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('a store whose write hangs never delays the answer', async () => {
    const h = await harness({ client: { cache: hanging('set') } });
    const pending = track(h.client.generate(CACHEABLE));
    await waitFor(() => pending.status !== 'pending', 'generate to settle');
    expect(pending.value?.source).toBe('live');
  });
});

describe('one upstream call per answer', () => {
  it('20 concurrent identical temperature-0 requests make one upstream call', async () => {
    const h = await harness();
    const results = await Promise.all(Array.from({ length: 20 }, () => h.client.generate(CACHEABLE)));
    expect(h.claude.messages).toHaveLength(1);
    expect(new Set(results.map((r) => r.text)).size).toBe(1);
    results[0]!.usage.inputTokens = -1; // each caller has its own copy
    expect(results[1]!.usage.inputTokens).not.toBe(-1);
  });

  it('changing the configured model never serves the old model’s answers', async () => {
    const h = await harness();
    const store = mapStore();
    const client = (model: string) =>
      createLlmClient({
        registry: h.registry,
        providers: { claude: { apiKey: ANTHROPIC_KEY, baseURL: h.claude.url, model, failover: false } },
        cache: store,
      });
    await client('claude-sonnet-4-6').generate(CACHEABLE);
    await waitFor(() => store.map.size === 1, 'the answer to be cached');
    const other = await client('claude-opus-4-1').generate(CACHEABLE);
    expect([other.source, other.model]).toEqual(['live', 'claude-opus-4-1']);
    expect(h.claude.messages.map((m) => (m.body as { model: string }).model)).toEqual([
      'claude-sonnet-4-6',
      'claude-opus-4-1',
    ]);
  });
});
