import type { Clock } from '@gl-vcci/breaker-core';
import { LRUCache } from 'lru-cache';

export interface LocalCacheOptions {
  maxEntries: number;
  /** Bound on the sum of the entries' JSON lengths (UTF-16 code units, about bytes for ASCII). */
  maxBytes: number;
  maxTtlMs: number;
  /** The registry's clock, so TTLs move with the breaker's time in tests. */
  clock: Clock;
}

/**
 * The bounded in-process tier: at most `maxEntries` entries and `maxBytes` of JSON text (least
 * recently used evicted first; a single value larger than `maxBytes` is not kept), each living min(its TTL, `maxTtlMs`). It holds the JSON text, not the value, so a caller that
 * mutates what it got back cannot change what the next caller gets, and both tiers give back
 * the same JSON round trip.
 */
export class LocalCache {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxTtlMs: number;
  readonly #lru: LRUCache<string, string>;

  constructor(options: LocalCacheOptions) {
    const { clock } = options;
    this.maxEntries = options.maxEntries;
    this.maxBytes = options.maxBytes;
    this.maxTtlMs = options.maxTtlMs;
    this.#lru = new LRUCache<string, string>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // At least 1: lru-cache refuses a size of 0 (the JSON text is never empty anyway).
      sizeCalculation: (json) => Math.max(1, json.length),
      ttl: options.maxTtlMs,
      // Reads check expiry against the clock itself: no timers (purge or clock caching) to clean up.
      ttlResolution: 0,
      // lru-cache takes a start time of 0 for "no TTL": keep a clock that reads 0 (a fresh ManualClock) clear of it.
      perf: { now: () => clock.now() + 1 },
    });
  }

  get(key: string): string | undefined {
    return this.#lru.get(key);
  }

  /** A value larger than `maxBytes` is not kept (and an older copy under the key is dropped). */
  set(key: string, json: string, ttlMs: number): void {
    if (json.length > this.maxBytes) {
      this.#lru.delete(key);
      return;
    }
    this.#lru.set(key, json, { ttl: Math.min(ttlMs, this.maxTtlMs) });
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }

  clear(): void {
    this.#lru.clear();
  }

  get size(): number {
    return this.#lru.size;
  }

  /** The sum of the entries' JSON lengths. */
  get bytes(): number {
    return this.#lru.calculatedSize;
  }
}
