import { createHash } from 'node:crypto';
import type { Clock } from '@gl-vcci/breaker-core';
import { LRUCache } from 'lru-cache';
import type { NormalizedRequest } from './providers/provider.js';
import type { CachedCompletion, LlmResponseCache } from './types.js';

/**
 * The key of a cacheable request: a hash of the request as both providers receive it, so an
 * answer cached from the secondary serves the same request later, whoever is primary then. The
 * caller's `cacheKey` is part of it: a namespace, not a replacement for the request.
 */
export function cacheKeyOf(request: NormalizedRequest, cacheKey: string | undefined): string {
  const normalized = JSON.stringify([
    cacheKey ?? null,
    request.system ?? null,
    request.messages.map((m) => [m.role, m.content]),
    request.maxTokens,
    request.temperature ?? null,
  ]);
  return `llm:v1:${createHash('sha256').update(normalized).digest('hex')}`;
}

/**
 * The default store: in-process, at most `maxEntries` answers (least recently used evicted
 * first), each for its TTL on the registry's clock.
 */
export class LruResponseCache implements LlmResponseCache {
  readonly #lru: LRUCache<string, CachedCompletion>;

  constructor(maxEntries: number, clock: Clock) {
    this.#lru = new LRUCache<string, CachedCompletion>({
      max: maxEntries,
      ttlAutopurge: false,
      // Reads check expiry against the clock itself: no timers to clean up.
      ttlResolution: 0,
      // lru-cache takes a start time of 0 for "no TTL": keep a clock that reads 0 clear of it.
      perf: { now: () => clock.now() + 1 },
    });
  }

  async get(key: string): Promise<CachedCompletion | undefined> {
    const hit = this.#lru.get(key);
    return hit === undefined ? undefined : { ...hit, usage: { ...hit.usage } };
  }

  async set(key: string, value: CachedCompletion, ttlMs: number): Promise<void> {
    this.#lru.set(key, { ...value, usage: { ...value.usage } }, { ttl: ttlMs });
  }
}
