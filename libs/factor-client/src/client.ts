import {
  type CircuitBreaker,
  type Clock,
  errorMessage,
  FallbackExhaustedError,
  fallbackChain,
} from '@gl-vcci/breaker-core';
import { LocalFactorCache } from './cache.js';
import { isCallerError } from './classify.js';
import { citationText, findDefault } from './defaults.js';
import { FactorUnavailableError } from './errors.js';
import { createFactorMetrics, type FactorMetrics } from './metrics.js';
import { type ResolvedOptions, type ResolvedSource, resolveOptions } from './options.js';
import { checkQuery, type QuerySchema, querySchema } from './query.js';
import { createSourceFetcher, type SourceFetcher } from './sources/http.js';
import { ADAPTERS } from './sources/index.js';
import type {
  CachedFactor,
  FactorCache,
  FactorClient,
  FactorClientOptions,
  FactorLogger,
  FactorQuery,
  FactorResult,
  FactorResultSource,
  FactorSourceName,
  GetFactorOptions,
} from './types.js';

interface Upstream {
  settings: ResolvedSource;
  breaker: CircuitBreaker;
  fetch: SourceFetcher;
}

/** A live lookup's outcome: the answer, or the circuit's refusal as a value (no error built while a source is down). */
type LiveOutcome = { ok: true; entry: CachedFactor } | { ok: false; why: string };

/**
 * Emission factors from the configured sources, each behind its own `factor_broker.<source>`
 * circuit, with the fallback chain live → cache → stale → failover → default. Options are checked
 * here, once; a bad one throws breaker-core's ConfigError naming the field.
 */
export function createFactorClient(options: FactorClientOptions): FactorClient {
  const o = resolveOptions(options);
  const upstreams = new Map<FactorSourceName, Upstream>();
  for (const settings of o.sources.values()) {
    upstreams.set(settings.name, {
      settings,
      breaker: o.registry.breaker(settings.circuitName, settings.breaker),
      fetch: createSourceFetcher({
        adapter: ADAPTERS[settings.name],
        baseUrl: settings.baseUrl,
        headers: settings.headers,
        idleTimeoutMs: o.idleTimeoutMs,
        maxRetryAfterMs: o.maxRetryAfterMs,
      }),
    });
  }
  return new FactorBroker(o, upstreams);
}

class FactorBroker implements FactorClient {
  readonly #upstreams: ReadonlyMap<FactorSourceName, Upstream>;
  readonly #cache: FactorCache;
  readonly #defaults: ResolvedOptions['defaults'];
  readonly #metrics: FactorMetrics;
  readonly #logger: FactorLogger;
  readonly #clock: Clock;
  readonly #schema: QuerySchema;
  /** Live lookups running, by cache key: concurrent identical lookups share one upstream call. */
  readonly #inflight = new Map<string, Promise<LiveOutcome>>();

  constructor(o: ResolvedOptions, upstreams: ReadonlyMap<FactorSourceName, Upstream>) {
    const names = [...upstreams.keys()];
    this.#upstreams = upstreams;
    this.#clock = o.registry.clock;
    this.#cache = o.cache ?? new LocalFactorCache(o.cacheEntries, this.#clock);
    this.#defaults = o.defaults;
    this.#metrics = createFactorMetrics(o.registry.metricsRegistry, names);
    this.#logger = o.logger.child({ client: 'factor' });
    this.#schema = querySchema(names);
  }

  async getFactor(query: FactorQuery, options?: GetFactorOptions): Promise<FactorResult> {
    const q = checkQuery(this.#schema, query, options);
    const signal = options?.signal;
    const upstream = this.#upstreams.get(q.source)!;
    const { cacheTtlMs, staleMaxAgeMs, failover } = upstream.settings;
    const key = cacheKey(q);
    // Why each step had no value, for the error when none had.
    const why: Partial<Record<FactorResultSource, string>> = {};
    let cached: Promise<CachedFactor | undefined> | undefined;
    const readCache = () => {
      cached ??= this.#readCache(key);
      return cached;
    };
    const fromCache = async (source: 'cache' | 'stale'): Promise<FactorResult | undefined> => {
      const entry = await readCache();
      if (!entry) {
        why[source] = 'nothing cached';
        return undefined;
      }
      const ageMs = Math.max(0, this.#clock.now() - entry.fetchedAt);
      const fits = source === 'cache' ? ageMs <= cacheTtlMs : ageMs > cacheTtlMs && ageMs <= staleMaxAgeMs;
      if (!fits) {
        why[source] =
          source === 'cache' ? `older than ${cacheTtlMs} ms` : `older than the maximum age ${staleMaxAgeMs} ms`;
        return undefined;
      }
      return { ...strip(entry), source, ageMs, quality: source === 'cache' ? 'high' : 'reduced' };
    };
    const steps = [
      {
        source: 'live' as const,
        run: async (s: AbortSignal) => {
          const outcome = await this.#live(upstream, q, key, s);
          if (outcome.ok) return { ...strip(outcome.entry), source: 'live' as const, quality: 'high' as const };
          why.live = outcome.why;
          return undefined;
        },
      },
      { source: 'cache' as const, run: () => fromCache('cache') },
      { source: 'stale' as const, run: () => fromCache('stale') },
    ];
    const failoverTo = failover === undefined ? undefined : this.#upstreams.get(failover);
    const tail = [
      ...(failoverTo
        ? [{ source: 'failover' as const, run: (s: AbortSignal) => this.#failover(failoverTo, q, s, why) }]
        : []),
      {
        source: 'default' as const,
        run: () => {
          const row = findDefault(this.#defaults, q);
          if (!row) {
            why.default = `no default for activity "${q.activity}" in region "${q.region}"${q.unit === undefined ? '' : ` in ${q.unit}`} in the defaults table`;
            return undefined;
          }
          const result: FactorResult = {
            value: row.value,
            unit: row.unit,
            factorSource: citationText(row),
            provider: 'defaults',
            region: row.region,
            year: row.year,
            source: 'default',
            quality: 'low',
          };
          return result;
        },
      },
    ];
    try {
      const { value } = await fallbackChain<FactorResult, FactorResultSource>([...steps, ...tail], {
        ...(signal ? { signal } : {}),
        stopOn: isCallerError,
      });
      this.#metrics.lookup(q.source, value.source);
      if (value.source !== 'live')
        this.#logger.debug({ factorSource: q.source, source: value.source, why }, 'factor served from fallback');
      return value;
    } catch (error) {
      this.#metrics.lookup(q.source, 'error');
      if (!(error instanceof FallbackExhaustedError)) throw error;
      const target = { source: q.source, activity: q.activity, region: q.region, year: q.year };
      throw new FactorUnavailableError(target, error, why);
    }
  }

  /**
   * One live lookup, shared by every concurrent caller of the same key. The shared call runs on the
   * circuit's deadline alone; a caller whose own signal aborts stops waiting, the others do not.
   */
  #live(upstream: Upstream, q: FactorQuery, key: string, signal: AbortSignal): Promise<LiveOutcome> {
    let shared = this.#inflight.get(key);
    if (!shared) {
      shared = this.#fetchLive(upstream, q, key).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, shared);
    }
    return untilAborted(shared, signal);
  }

  async #fetchLive(upstream: Upstream, q: FactorQuery, key: string): Promise<LiveOutcome> {
    const outcome = await upstream.breaker.tryExecute((signal) => upstream.fetch(q, signal));
    if (!outcome.ok) {
      const { circuitName, state, retryAfterMs } = outcome.refusal;
      return {
        ok: false,
        why: `circuit ${circuitName} is ${state}${retryAfterMs === undefined ? '' : ` (next trial in ${retryAfterMs} ms)`}`,
      };
    }
    const entry: CachedFactor = { ...outcome.value, provider: upstream.settings.name, fetchedAt: this.#clock.now() };
    // Only live answers are cached, kept as long as they may be served stale.
    try {
      await this.#cache.set(key, entry, upstream.settings.staleMaxAgeMs);
    } catch (error) {
      this.#logger.warn({ key, error: errorMessage(error) }, 'factor cache write failed');
    }
    return { ok: true, entry };
  }

  /** The same activity/region from the failover source, live; its refusal or its 4xx (it lacks the factor) is "no value". */
  async #failover(
    to: Upstream,
    q: FactorQuery,
    signal: AbortSignal,
    why: Partial<Record<FactorResultSource, string>>,
  ): Promise<FactorResult | undefined> {
    const q2 = { ...q, source: to.settings.name };
    try {
      const outcome = await this.#live(to, q2, cacheKey(q2), signal);
      if (outcome.ok) return { ...strip(outcome.entry), source: 'failover', quality: 'reduced' };
      why.failover = `${to.settings.name}: ${outcome.why}`;
      return undefined;
    } catch (error) {
      if (!isCallerError(error)) throw error;
      why.failover = errorMessage(error);
      return undefined;
    }
  }

  async #readCache(key: string): Promise<CachedFactor | undefined> {
    try {
      return await this.#cache.get(key);
    } catch (error) {
      this.#logger.warn({ key, error: errorMessage(error) }, 'factor cache read failed: treated as a miss');
      return undefined;
    }
  }
}

function cacheKey(q: FactorQuery): string {
  return JSON.stringify([q.source, q.activity, q.region, q.year ?? null, q.unit ?? null]);
}

function strip(entry: CachedFactor): Omit<FactorResult, 'source' | 'quality'> {
  const { value, unit, factorSource, provider, region, year } = entry;
  return { value, unit, factorSource, provider, region, year };
}

/** `promise`, or the signal's reason as soon as it aborts (the listener removed either way). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
