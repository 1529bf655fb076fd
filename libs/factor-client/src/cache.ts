import type { Clock, Logger } from '@gl-vcci/breaker-core';
import { type KeyValueStore, loggedError, raceAbort } from '@gl-vcci/breaker-core/client';
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
  constructor(
    readonly store: KeyValueStore<CachedFactor>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Keeps a live answer for as long as it may be served stale; the answer does not wait for the store. */
  write(key: string, entry: CachedFactor, ttlMs: number): void {
    this.store.set(key, entry, ttlMs).catch((error: unknown) => {
      this.logger.warn({ provider: entry.provider, error: loggedError(error) }, 'factor cache write failed');
    });
  }

  /** The `cache` (within the TTL) and `stale` (past it, within the maximum age) steps: one store read for both. */
  steps(q: FactorQuery, ages: { cacheTtlMs: number; staleMaxAgeMs: number }, why: Reasons) {
    const { cacheTtlMs, staleMaxAgeMs } = ages;
    let read: Promise<CachedFactor | undefined> | undefined;
    const step = (kind: 'cache' | 'stale') => ({
      source: kind,
      run: async (): Promise<FactorResult | undefined> => {
        read ??= this.#read(cacheKey(q));
        const entry = await read;
        if (!entry) {
          why[kind] = 'nothing cached';
          return undefined;
        }
        const ageMs = Math.max(0, this.clock.now() - entry.fetchedAt);
        const fits = kind === 'cache' ? ageMs <= cacheTtlMs : ageMs > cacheTtlMs && ageMs <= staleMaxAgeMs;
        if (!fits) {
          why[kind] =
            kind === 'cache' ? `older than ${cacheTtlMs} ms` : `older than the maximum age ${staleMaxAgeMs} ms`;
          return undefined;
        }
        return { ...strip(entry), source: kind, ageMs, quality: kind === 'cache' ? 'high' : 'reduced' };
      },
    });
    return [step('cache'), step('stale')];
  }

  /** The entry, or undefined on a miss, an error or no answer within STORE_READ_TIMEOUT_MS (registry clock). */
  async #read(key: string): Promise<CachedFactor | undefined> {
    const deadline = new AbortController();
    const timer = this.clock.setTimeout(
      () => deadline.abort(new Error(`no answer within ${STORE_READ_TIMEOUT_MS} ms`)),
      STORE_READ_TIMEOUT_MS,
    );
    try {
      return await raceAbort(this.store.get(key, { signal: deadline.signal }), deadline.signal);
    } catch (error) {
      this.logger.warn({ error: loggedError(error) }, 'factor cache read failed: treated as a miss');
      return undefined;
    } finally {
      this.clock.clearTimeout(timer);
    }
  }
}
