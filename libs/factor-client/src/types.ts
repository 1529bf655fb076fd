import type { BreakerConfig, BreakerRegistry, ValueSource } from '@gl-vcci/breaker-core';

/** The logger type of breaker-core (pino), so this package needs no logging dependency of its own. */
export type FactorLogger = BreakerRegistry['logger'];

/** The emission-factor sources the factor broker fronts. */
export type FactorSourceName = 'ecoinvent' | 'desnz' | 'epa';

/** Where a result came from, in breaker-core's words. */
export type FactorResultSource = Extract<ValueSource, 'live' | 'cache' | 'stale' | 'default' | 'failover'>;

/**
 * How far a result can be trusted, for the audit trail:
 * - `high`: the requested source's own answer (live, or cached within `cache_ttl`);
 * - `reduced`: the requested source's answer older than `cache_ttl` (stale), or another source's (failover);
 * - `low`: a conservative default from the defaults table, not the requested source's factor at all.
 */
export type FactorQuality = 'high' | 'reduced' | 'low';

export interface FactorQuery {
  /** One of the configured sources. */
  source: FactorSourceName;
  /** The source's activity identifier, e.g. `natural_gas`. */
  activity: string;
  /** ISO 3166-1 alpha-2 country (`US`), optionally with a subdivision (`US-CA`), or `GLO` / `RoW`. */
  region: string;
  /** Reporting year; absent: the source's current factor. */
  year?: number;
  /** The unit the caller computes with; an answer in another unit is refused. */
  unit?: string;
}

export interface FactorResult {
  value: number;
  unit: string;
  /** The publication the value comes from, as the source names it (`ecoinvent 3.10 cutoff`) or the default's citation. */
  factorSource: string;
  /** Who answered: the source asked, the failover source, or `defaults`. */
  provider: FactorSourceName | 'defaults';
  region: string;
  year: number;
  source: FactorResultSource;
  /** How old the cached value is (clock ms): on `cache` and `stale` results. */
  ageMs?: number;
  quality: FactorQuality;
}

/** What the client keeps in the cache: a live answer and when it was fetched (registry clock ms). */
export interface CachedFactor {
  value: number;
  unit: string;
  factorSource: string;
  provider: FactorSourceName;
  region: string;
  year: number;
  fetchedAt: number;
}

/**
 * Any store for live answers (the demo plugs Redis in through cache-client). Errors of `get` are
 * treated as misses and logged; errors of `set` are logged. `ttlMs` is the longest the value may
 * still be served (the stale maximum age).
 */
export interface FactorCache<T = CachedFactor> {
  get(key: string): Promise<T | undefined>;
  set(key: string, value: T, ttlMs: number): Promise<void>;
}

/** One source's endpoint and client-side settings. */
export interface FactorSourceOptions {
  /** Base URL of the source's factor broker endpoint, e.g. `https://factors.internal/ecoinvent`. */
  baseUrl: string;
  /** Extra request headers (an API key…); never logged. */
  headers?: Record<string, string>;
  /** Another configured source asked for the same activity/region when this one has no value (config `failover`). */
  failover?: FactorSourceName;
  /** Served as `cache` this long after a live answer (default: config `cache_ttl`, else 24 h). */
  cacheTtlMs?: number;
  /** Served as `stale` up to this age, then refused (default: config `stale_max_age`, else 7 days). */
  staleMaxAgeMs?: number;
}

/** One row of the conservative defaults table (`config/factor-defaults.yaml`). */
export interface FactorDefault {
  activity: string;
  region: string;
  value: number;
  unit: string;
  year: number;
  citation: { publication: string; year: number; table: string; row?: string };
  note?: string;
}

export interface FactorClientOptions {
  /** The sources this client may ask, by name: at least one. */
  sources: Partial<Record<FactorSourceName, FactorSourceOptions>>;
  /** breaker-core's registry: the `factor_broker.<source>` circuits, their config, metrics, logger and clock. */
  registry: BreakerRegistry;
  /** Where live answers are kept (default: an in-process LRU of `cacheEntries` entries). */
  cache?: FactorCache;
  /** Entries of the default in-process cache (default 10 000); not with `cache`. */
  cacheEntries?: number;
  /** The conservative defaults, e.g. `loadFactorDefaults('config/factor-defaults.yaml')` (default: none). */
  defaults?: readonly FactorDefault[];
  /** axios' idle (socket inactivity) timeout in ms; the deadline is the circuit's `call_timeout` (default 5 000). */
  idleTimeoutMs?: number;
  /** Cap on the Retry-After honoured from a 429/503, in ms (default 600 000). */
  maxRetryAfterMs?: number;
  /** Breaker settings over the configuration file's, for every source's circuit (not `name` or `classify`). */
  breaker?: Partial<Omit<BreakerConfig, 'name' | 'classify'>>;
  /** Parent of the client's child logger (default `registry.logger`). */
  logger?: FactorLogger;
}

export interface GetFactorOptions {
  /** Aborting rejects this caller at once with the signal's reason; a shared upstream call goes on for the others. */
  signal?: AbortSignal;
}

export interface FactorClient {
  /** The factor for `query`, live or from the fallback chain; `source` and `quality` say which. */
  getFactor(query: FactorQuery, options?: GetFactorOptions): Promise<FactorResult>;
}
