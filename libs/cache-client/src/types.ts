import type { BreakerConfig, BreakerRegistry, Logger } from '@gl-vcci/breaker-core';
import type { ClientStatus } from '@gl-vcci/breaker-core/client';

/** The client's own tiers: Redis, shared by every process, and this process' bounded copy. */
export type CacheTier = 'redis' | 'local';

/**
 * Where a read's value came from, in the platform's vocabulary: `live` from Redis (or, in
 * `getOrSet`, from the caller's loader); `stale` from this process' local tier, which answers
 * only when Redis could not, and may be behind what other processes wrote to Redis since.
 */
export type CacheSource = 'live' | 'stale';

/** A value found in a cache tier. A miss is `undefined`, never an object. */
export interface CacheHit<T> {
  value: T;
  source: CacheSource;
  tier: CacheTier;
}

/** What `getOrSet` returns: a hit from either tier, or the loader's value (`tier: 'loader'`, `source: 'live'`). */
export interface CacheResult<T> {
  value: T;
  source: CacheSource;
  tier: CacheTier | 'loader';
}

/**
 * Where a `set` or `del` landed: `redis` (and the local tier), or `local` only, because Redis was
 * unavailable, behind an open circuit or refused writes. A `local` write's key is reconciled
 * (deleted in Redis) once Redis is back, so the older copy there is never served again.
 */
export type CacheWriteTier = CacheTier;

/** Per-call options of the reads. */
export interface CacheCallOptions {
  /** Stop waiting when it aborts: the call rejects with its reason (the breaker's deadline still bounds it). */
  signal?: AbortSignal;
}

/** The in-process tier that serves reads and takes writes while Redis is unavailable. */
export interface CacheLocalOptions {
  /** Entries kept; the least recently used go first (default 10 000). */
  maxEntries?: number;
  /**
   * Bound on the local tier's total size, measured as the JSON text length of its values; the
   * least recently used go first, and a single value larger than this is not kept locally
   * (default 52 428 800, 50 MiB).
   */
  maxBytes?: number;
  /** This client's addition to breaker-core's `local`: longest an entry lives locally, whatever TTL it was written with (default: config `cache_ttl`, else 300 000). */
  maxTtlMs?: number;
}

/** node-redis connection settings; the defaults are the fail-fast recipe. */
export interface CacheConnectionOptions {
  /** TCP (and TLS) connect deadline (default 1 000). */
  connectTimeoutMs?: number;
  /** A socket with no traffic this long is dropped and reconnected: finds a hung server (default 2 000). */
  socketTimeoutMs?: number;
  /** PING interval that keeps an idle socket under `socketTimeoutMs` (default 1 000; must be smaller). */
  pingIntervalMs?: number;
  /** Cap of the reconnect backoff, 50 ms doubling per failed attempt (default 2 000). */
  reconnectMaxDelayMs?: number;
}

export interface CacheClientOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]`; never echoed in an error or a log. */
  url: string;
  /** breaker-core's registry: the circuit (`cache.redis` unless `circuitName` says otherwise), its settings, metrics, logger and clock. */
  registry: BreakerRegistry;
  /** Parent of the client's child logger (default `registry.logger`). */
  logger?: Logger;
  /** Prepended to every key in Redis, e.g. `'gl-vcci:factors:'` (default none). */
  keyPrefix?: string;
  /** The local fallback tier. */
  local?: CacheLocalOptions;
  /** node-redis settings. */
  connection?: CacheConnectionOptions;
  /**
   * Breaker settings over circuit_breaker_config.yaml's, e.g. `{ callTimeoutMs: 200 }`
   * (`name` and `classify` are the client's). A second client on the same registry and circuit
   * shares the circuit only with the same settings.
   */
  breaker?: Partial<Omit<BreakerConfig, 'name' | 'classify'>>;
  /** Circuit name, also the config service block read (default `cache.redis`). */
  circuitName?: string;
}

export interface CacheStatus extends ClientStatus {
  /** A Redis connection is ready for commands. */
  connected: boolean;
  /** Entries in the local tier. */
  localEntries: number;
  /** Keys written or deleted locally only, waiting to be reconciled (deleted) in Redis. */
  unsyncedKeys: number;
}

/**
 * A JSON cache in Redis behind a circuit breaker, with a bounded in-process tier for outages.
 * Values go through `JSON.stringify`/`JSON.parse`: what comes back is the JSON form of what went in.
 */
export interface CacheClient {
  /** The value under `key`, or `undefined` on a miss. Redis unavailable: the local tier answers. */
  get<T = unknown>(key: string, options?: CacheCallOptions): Promise<CacheHit<T> | undefined>;
  /** `get` for several keys in one round trip; results in the order of `keys`. */
  mget<T = unknown>(keys: readonly string[], options?: CacheCallOptions): Promise<Array<CacheHit<T> | undefined>>;
  /**
   * Stores `value` for `ttlMs` in Redis and the local tier, and resolves to where it landed:
   * `'redis'`, or `'local'` while Redis is unavailable (the key is then reconciled on recovery).
   */
  set(key: string, value: unknown, ttlMs: number): Promise<CacheWriteTier>;
  /** Removes `key` from both tiers; `'local'` while Redis is unavailable (reconciled on recovery). */
  del(key: string): Promise<CacheWriteTier>;
  /**
   * Cache-aside: the cached value, else `loader()`'s, stored for `ttlMs`. Concurrent calls for one
   * key share one loader call (a caller's `signal` stops only its own wait). The loader's value is
   * returned at once and written in the background; a value with no JSON form is returned and not
   * cached. Cache errors never reach the caller; the loader's errors do.
   */
  getOrSet<T>(
    key: string,
    ttlMs: number,
    loader: () => Promise<T> | T,
    options?: CacheCallOptions,
  ): Promise<CacheResult<T>>;
  /** Circuit, connection and local tier, for health endpoints and tests. */
  status(): CacheStatus;
  /** Closes the connection and stops reconnecting; leaves no timer or socket. Later calls reject. */
  close(): Promise<void>;
}
