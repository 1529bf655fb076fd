import type { Clock } from '@gl-vcci/breaker-core';
import { LRUCache } from 'lru-cache';
import type { CachedFactor, FactorCache } from './types.js';

/**
 * The default store: a bounded in-process LRU (least recently used evicted first), each entry
 * living the TTL it was written with, on the registry's clock so tests move its time too.
 */
export class LocalFactorCache implements FactorCache {
  readonly #lru: LRUCache<string, CachedFactor>;

  constructor(maxEntries: number, clock: Clock) {
    this.#lru = new LRUCache<string, CachedFactor>({
      max: maxEntries,
      // Reads check expiry against the clock itself: no purge timer to clean up.
      ttlResolution: 0,
      ttlAutopurge: false,
      // lru-cache takes a start time of 0 for "no TTL": keep a clock that reads 0 clear of it.
      perf: { now: () => clock.now() + 1 },
    });
  }

  async get(key: string): Promise<CachedFactor | undefined> {
    return this.#lru.get(key);
  }

  async set(key: string, value: CachedFactor, ttlMs: number): Promise<void> {
    this.#lru.set(key, value, { ttl: ttlMs });
  }

  get size(): number {
    return this.#lru.size;
  }
}
