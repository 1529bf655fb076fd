import type { Clock, Logger } from '@gl-vcci/breaker-core';
import { ClientCache, type KeyValueStore } from '@gl-vcci/breaker-core/client';
import type { CachedList, ErpResult, ErpResultSource } from './types.js';

/** How long a cache read may take before it counts as a miss: a cache is never worth an outage of its own. */
export const STORE_READ_TIMEOUT_MS = 1_000;

/** Why each step had no value, for ErpUnavailableError when none had. */
export type Reasons = Partial<Record<ErpResultSource, string>>;

/**
 * The complete lists kept in the store (a LocalStore by default). Only a list read to its last
 * page is ever written; a store that fails or hangs is a miss and a write nobody waits for.
 */
export class ListCache {
  readonly #store: ClientCache<CachedList>;

  constructor(
    store: KeyValueStore<CachedList>,
    private readonly clock: Clock,
    logger: Logger,
  ) {
    this.#store = new ClientCache(store, { clock, logger, readTimeoutMs: STORE_READ_TIMEOUT_MS, name: 'erp cache' });
  }

  write(key: string, entry: CachedList, ttlMs: number): void {
    this.#store.write(key, entry, ttlMs);
  }

  /** The `cache` (within the TTL) and `stale` (past it, within the maximum age) steps: one store read for both. */
  steps<T>(key: string, ages: { cacheTtlMs: number; staleMaxAgeMs: number }, why: Reasons) {
    const { cacheTtlMs, staleMaxAgeMs } = ages;
    let read: Promise<CachedList | undefined> | undefined;
    const step = (kind: 'cache' | 'stale') => ({
      source: kind,
      run: async (): Promise<ErpResult<T> | undefined> => {
        read ??= this.#store.read(key);
        const entry = await read;
        if (!entry) {
          why[kind] = 'no complete list cached';
          return undefined;
        }
        const ageMs = Math.max(0, this.clock.now() - entry.fetchedAt);
        const fits = kind === 'cache' ? ageMs <= cacheTtlMs : ageMs > cacheTtlMs && ageMs <= staleMaxAgeMs;
        if (!fits) {
          why[kind] =
            kind === 'cache' ? `older than ${cacheTtlMs} ms` : `older than the maximum age ${staleMaxAgeMs} ms`;
          return undefined;
        }
        return { value: entry.records as T[], source: kind, ageMs };
      },
    });
    return [step('cache'), step('stale')];
  }
}
