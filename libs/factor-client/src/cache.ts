import type { Clock, Logger } from '@gl-vcci/breaker-core';
import { ClientCache, type KeyValueStore } from '@gl-vcci/breaker-core/client';
import type { CachedFactor, FactorQuery, FactorResult, FactorResultSource } from './types.js';

/** How long a cache read may take before it counts as a miss: a cache is never worth an outage of its own. */
export const STORE_READ_TIMEOUT_MS = 1_000;

/** Why each step had no value, for FactorUnavailableError when none had. */
export type Reasons = Partial<Record<FactorResultSource, string>>;

/** One cache entry per source, activity, region, year and unit. */
export function cacheKey(q: FactorQuery): string {
  return JSON.stringify([q.source, q.activity, q.region, q.year ?? null, q.unit ?? null]);
}

/** A cached (or live) answer without the fields that say where it came from. */
export function strip(entry: CachedFactor): Omit<FactorResult, 'source' | 'quality'> {
  const { value, unit, factorSource, provider, region, year } = entry;
  return { value, unit, factorSource, provider, region, year };
}

/**
 * The live answers kept in the store (a LocalStore by default, Redis through cache-client in the
 * demo). A store that fails or hangs is a miss and a write nobody waits for: the chain goes on to
 * the failover and the default.
 */
export class AnswerCache {
  readonly #store: ClientCache<CachedFactor>;

  constructor(
    store: KeyValueStore<CachedFactor>,
    private readonly clock: Clock,
    logger: Logger,
  ) {
    this.#store = new ClientCache(store, { clock, logger, readTimeoutMs: STORE_READ_TIMEOUT_MS, name: 'factor cache' });
  }

  /** Keeps a live answer for as long as it may be served stale; the answer does not wait for the store. */
  write(key: string, entry: CachedFactor, ttlMs: number): void {
    this.#store.write(key, entry, ttlMs);
  }

  /**
   * The lookup's cached answer, read first: within its TTL it is served without asking the source
   * (`refresh` when it is within `refreshAheadMs` of expiry), else `expired` (or nothing) and the
   * caller goes live, keeping the entry for the `stale` step.
   */
  async lookup(
    q: FactorQuery,
    ages: { cacheTtlMs: number; refreshAheadMs: number },
    why: Reasons,
  ): Promise<{ fresh?: FactorResult; refresh?: boolean; entry?: CachedFactor }> {
    const entry = await this.#store.read(cacheKey(q));
    if (!entry) {
      why.cache = 'nothing cached';
      return {};
    }
    const ageMs = Math.max(0, this.clock.now() - entry.fetchedAt);
    if (ageMs > ages.cacheTtlMs) {
      why.cache = `older than ${ages.cacheTtlMs} ms`;
      return { entry };
    }
    const fresh: FactorResult = { ...strip(entry), source: 'cache', ageMs, quality: 'high' };
    return { fresh, refresh: ageMs >= ages.cacheTtlMs - ages.refreshAheadMs, entry };
  }

  /** The `stale` step: the entry read by `lookup`, past its TTL and within the maximum age. */
  staleStep(entry: CachedFactor | undefined, staleMaxAgeMs: number, why: Reasons) {
    return {
      source: 'stale' as const,
      run: (): FactorResult | undefined => {
        if (!entry) {
          why.stale = 'nothing cached';
          return undefined;
        }
        const ageMs = Math.max(0, this.clock.now() - entry.fetchedAt);
        if (ageMs > staleMaxAgeMs) {
          why.stale = `older than the maximum age ${staleMaxAgeMs} ms`;
          return undefined;
        }
        return { ...strip(entry), source: 'stale', ageMs, quality: 'reduced' };
      },
    };
  }
}
