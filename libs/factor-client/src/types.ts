import type { BreakerConfig, BreakerRegistry, Logger, ValueSource } from '@gl-vcci/breaker-core';
import type { ClientStatus, KeyValueStore } from '@gl-vcci/breaker-core/client';

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
  /** The unit the caller computes with; an answer in another unit is a FactorMismatchError. */
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

/** What the client keeps in its cache: a live answer and when it was fetched (registry clock ms). */
export interface CachedFactor {
  value: number;
  unit: string;
  factorSource: string;
  provider: FactorSourceName;
  region: string;
  year: number;
  fetchedAt: number;
}

/** Overrides of one source's circuit settings, over the configuration file's (not `name` or `classify`). */
export type FactorBreakerOptions = Partial<Omit<BreakerConfig, 'name' | 'classify'>>;

/** One source's endpoint and client-side settings. */
export interface FactorSourceOptions {
  /** Base URL of the source's factor broker endpoint, e.g. `https://factors.internal/ecoinvent`. */
  baseUrl: string;
  /** Extra request headers (an API key…); never logged, never in an error. */
  headers?: Record<string, string>;
  /** Another configured source asked for the same activity/region when this one has no value (beats config `failover`). */
  failover?: FactorSourceName;
  /** Served as `cache` this long after a live answer (default: config `cache_ttl`, else 24 h). */
  cacheTtlMs?: number;
  /** Served as `stale` up to this age, then refused (default: config `stale_max_age`, else 7 days). */
  staleMaxAgeMs?: number;
  /**
   * A cached answer this close to the end of its TTL is served and refreshed in the background
   * (default: config `refresh_ahead`, else a tenth of the TTL).
   */
  refreshAheadMs?: number;
  /** This source's circuit settings over the configuration file's. */
  breaker?: FactorBreakerOptions;
}

/** One row of the conservative defaults table (the package's `data/factor-defaults.yaml`). */
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
  /** breaker-core's registry: the `factor_broker.<source>` circuits, their settings, metrics, logger and clock. */
  registry: BreakerRegistry;
  /** Parent of the client's child logger (default `registry.logger`). */
  logger?: Logger;
  /** The sources this client may ask, by name: at least one. */
  sources: Partial<Record<FactorSourceName, FactorSourceOptions>>;
  /** Where live answers are kept, e.g. Redis through cache-client (default: an in-process LocalStore sized by `local`). */
  cache?: KeyValueStore<CachedFactor>;
  /** Bounds of the default in-process store (default 10 000 entries); not with `cache`. */
  local?: { maxEntries?: number; maxBytes?: number };
  /** The conservative defaults, e.g. `loadFactorDefaults()` for the cited table the package ships (default: none). */
  defaults?: readonly FactorDefault[];
  /** axios' idle (socket inactivity) timeout in ms; the deadline is the circuit's `call_timeout` (default 5 000). */
  idleTimeoutMs?: number;
  /** Cap on the Retry-After honoured from a 429/503, in ms (default 600 000). */
  maxRetryAfterMs?: number;
}

export interface GetFactorOptions {
  /** Aborting rejects this caller at once with the signal's reason; a shared upstream call goes on for the others. */
  signal?: AbortSignal;
}

/**
 * `status()`: each source's circuit by name (`factor_broker.epa`), whether the client is closed,
 * and each source's settings as resolved from options and the config file.
 */
export interface FactorClientStatus extends ClientStatus {
  sources: Partial<
    Record<FactorSourceName, { failover: FactorSourceName | undefined; cacheTtlMs: number; staleMaxAgeMs: number }>
  >;
}

export interface FactorClient {
  /** The factor for `query`, live or from the fallback chain; `source` and `quality` say which. */
  getFactor(query: FactorQuery, options?: GetFactorOptions): Promise<FactorResult>;
  status(): FactorClientStatus;
  /** Stops new lookups, cuts running ones with FactorClosedError and closes the client's sockets. */
  close(): Promise<void>;
}
