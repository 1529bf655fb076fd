import { type CircuitBreaker, errorMessage } from '@gl-vcci/breaker-core';
import { LocalCache } from './cache.js';
import { isCallerError, isWriteRefusal } from './classify.js';
import { decode, encode } from './codec.js';
import { type RedisClient, RedisConnection } from './connection.js';
import { CacheClosedError, CacheCommandError } from './errors.js';
import { type CacheMetrics, createCacheMetrics } from './metrics.js';
import { checkKey, checkKeys, checkLoader, checkTtl, resolveOptions } from './options.js';
import type {
  CacheClient,
  CacheClientOptions,
  CacheHit,
  CacheLogger,
  CacheResult,
  CacheStatus,
  CacheWriteTier,
} from './types.js';

/** Keys deleted per DEL when the local-only writes are reconciled. */
export const RECONCILE_BATCH = 100;

/**
 * A JSON cache in Redis behind the `cache.redis` circuit, with a bounded in-process tier that
 * serves while Redis is down, hung or the circuit is open. Returns at once: it connects in the
 * background and starts in fallback if Redis is not there. Options are checked here, once; a bad
 * one throws breaker-core's ConfigError naming the field.
 */
export function createCacheClient(options: CacheClientOptions): CacheClient {
  const o = resolveOptions(options);
  const logger = o.logger.child({ client: 'cache', circuit: o.circuitName });
  // First, before any connection exists: a second client with other breaker settings is refused here.
  const breaker = o.registry.breaker(o.circuitName, o.breaker);
  const metrics = createCacheMetrics(o.registry.metricsRegistry);
  let cache: RedisCache | undefined;
  const connection = new RedisConnection({
    url: o.url,
    connectTimeoutMs: o.connectTimeoutMs,
    socketTimeoutMs: o.socketTimeoutMs,
    pingIntervalMs: o.pingIntervalMs,
    reconnectMaxDelayMs: o.reconnectMaxDelayMs,
    logger,
    onError: () => metrics.connectionError(),
    // Each (re)connection: delete in Redis what was written or deleted locally only meanwhile.
    onReady: () => cache?.reconcile(),
  });
  const local = new LocalCache({
    maxEntries: o.localMaxEntries,
    maxBytes: o.localMaxBytes,
    maxTtlMs: o.localMaxTtlMs,
    clock: o.registry.clock,
  });
  // Tracks as many local-only keys as the local tier holds entries.
  cache = new RedisCache(breaker, connection, local, metrics, logger, o.keyPrefix, o.localMaxEntries);
  return cache;
}

class RedisCache implements CacheClient {
  readonly #breaker: CircuitBreaker;
  readonly #connection: RedisConnection;
  readonly #local: LocalCache;
  readonly #metrics: CacheMetrics;
  readonly #logger: CacheLogger;
  readonly #prefix: string;
  /** getOrSet calls running, by Redis key: concurrent misses of one key share one loader call. */
  readonly #inflight = new Map<string, Promise<CacheResult<unknown>>>();
  /**
   * Keys whose last set/del reached only the local tier (Redis unavailable, circuit open, writes
   * refused), with the generation of that write. Redis may hold an older copy of them: a Redis
   * hit on one is answered from the local tier until reconcile() has deleted it in Redis.
   */
  readonly #unsynced = new Map<string, number>();
  readonly #maxUnsynced: number;
  #generation = 0;
  #reconciling: Promise<void> | undefined;
  /** The overflow of #unsynced was logged at warn; reset once everything is reconciled. */
  #overflowWarned = false;
  /** A write refusal (OOM, READONLY …) was logged at warn; reset by the next write Redis takes. */
  #refusalWarned = false;
  #closed = false;

  constructor(
    breaker: CircuitBreaker,
    connection: RedisConnection,
    local: LocalCache,
    metrics: CacheMetrics,
    logger: CacheLogger,
    prefix: string,
    maxUnsynced: number,
  ) {
    this.#breaker = breaker;
    this.#connection = connection;
    this.#local = local;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#prefix = prefix;
    this.#maxUnsynced = maxUnsynced;
  }

  async get<T = unknown>(key: string): Promise<CacheHit<T> | undefined> {
    this.#checkOpen();
    checkKey('get', key);
    const redisKey = this.#prefix + key;
    let json: string | null;
    try {
      json = await this.#redis((client) => client.get(redisKey));
    } catch (error) {
      this.#metrics.lookup('redis', 'error');
      if (isCallerError(error)) throw new CacheCommandError(key, 'GET', error);
      this.#fellBack('get', error);
      return this.#fromLocal<T>(redisKey);
    }
    this.reconcile();
    return this.#answer<T>(key, redisKey, json);
  }

  async mget<T = unknown>(keys: readonly string[]): Promise<Array<CacheHit<T> | undefined>> {
    this.#checkOpen();
    checkKeys('mget', keys);
    if (keys.length === 0) return [];
    const redisKeys = keys.map((key) => this.#prefix + key);
    let values: Array<string | null>;
    try {
      values = await this.#redis((client) => client.mGet(redisKeys));
    } catch (error) {
      for (let i = 0; i < keys.length; i++) this.#metrics.lookup('redis', 'error');
      if (isCallerError(error)) throw new CacheCommandError(keys.join(' '), 'MGET', error);
      this.#fellBack('mget', error);
      return redisKeys.map((redisKey) => this.#fromLocal<T>(redisKey));
    }
    this.reconcile();
    return keys.map((key, i) => this.#answer<T>(key, redisKeys[i]!, values[i] ?? null));
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<CacheWriteTier> {
    this.#checkOpen();
    checkKey('set', key);
    checkTtl('set', ttlMs);
    const json = encode(key, value);
    return this.#store(key, this.#prefix + key, json, ttlMs, true);
  }

  async del(key: string): Promise<CacheWriteTier> {
    this.#checkOpen();
    checkKey('del', key);
    const redisKey = this.#prefix + key;
    this.#local.delete(redisKey);
    const issuedAt = this.#generation;
    try {
      await this.#redis((client) => client.del(redisKey));
    } catch (error) {
      if (isCallerError(error)) throw new CacheCommandError(key, 'DEL', error);
      // Redis keeps its copy for now: tracked, so it is never served again and deleted on recovery.
      this.#wroteLocally('del', redisKey, error);
      return 'local';
    }
    this.#synced([redisKey], issuedAt);
    this.reconcile();
    return 'redis';
  }

  getOrSet<T>(key: string, ttlMs: number, loader: () => Promise<T> | T): Promise<CacheResult<T>> {
    try {
      this.#checkOpen();
      checkKey('getOrSet', key);
      checkTtl('getOrSet', ttlMs);
      checkLoader('getOrSet', loader);
    } catch (error) {
      return Promise.reject(error);
    }
    const redisKey = this.#prefix + key;
    const pending = this.#inflight.get(redisKey);
    if (pending) return pending as Promise<CacheResult<T>>;
    const loading = this.#getOrLoad(key, redisKey, ttlMs, loader).finally(() => this.#inflight.delete(redisKey));
    this.#inflight.set(redisKey, loading);
    return loading;
  }

  status(): CacheStatus {
    return {
      connected: this.#connection.ready,
      circuit: this.#breaker.state,
      localEntries: this.#local.size,
      unsyncedKeys: this.#unsynced.size,
      closed: this.#closed,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#connection.close();
    this.#local.clear();
  }

  /**
   * Deletes in Redis, in batches of RECONCILE_BATCH keys, the keys written or deleted locally only,
   * so the older copies Redis kept are never served again; the local tier keeps the newer value
   * until its TTL. Runs in the background, once at a time, when a connection becomes ready and
   * after each command Redis answered (once that command's own bookkeeping is done); does nothing while the circuit is open. Never throws: what
   * it could not delete stays tracked for the next run.
   */
  reconcile(): void {
    if (this.#reconciling || this.#closed || this.#unsynced.size === 0) return;
    if (!this.#connection.ready || this.#breaker.state === 'open') return;
    this.#reconciling = this.#reconcileOnce().finally(() => {
      this.#reconciling = undefined;
    });
  }

  async #reconcileOnce(): Promise<void> {
    // The keys tracked now: a key tracked during this run waits for the next one.
    const keys = [...this.#unsynced.keys()];
    try {
      for (let i = 0; i < keys.length && !this.#closed; i += RECONCILE_BATCH) {
        const batch = keys.slice(i, i + RECONCILE_BATCH);
        const issuedAt = this.#generation;
        await this.#redis((client) => client.del(batch));
        this.#synced(batch, issuedAt);
      }
    } catch (error) {
      this.#logger.debug(
        { error: error instanceof Error ? error.constructor.name : typeof error, reason: errorMessage(error) },
        'reconciling local-only writes failed: retried once Redis answers again',
      );
      return;
    }
    if (this.#unsynced.size === 0) this.#overflowWarned = false;
  }

  /** One command through the circuit, which owns its deadline: it settles then even if Redis never answers. */
  #redis<R>(command: (client: RedisClient) => Promise<R>): Promise<R> {
    // A call still running when close() came (its loader, say) must not count against the circuit.
    if (this.#closed) return Promise.reject(new CacheClosedError());
    // The signal also drops a command node-redis has not written yet when the deadline passes.
    return this.#breaker.execute((signal) => this.#connection.run((client) => command(client.withAbortSignal(signal))));
  }

  /** The write of `redisKey` reached only the local tier: track it for reconciliation, within the bound. */
  #wroteLocally(operation: string, redisKey: string, error: unknown): void {
    if (isWriteRefusal(error)) {
      if (!this.#refusalWarned) {
        this.#refusalWarned = true;
        this.#logger.warn(
          { err: error, operation },
          'redis refuses writes: reads still served by Redis, writes kept in the local tier',
        );
      }
    } else {
      this.#fellBack(operation, error);
    }
    if (this.#unsynced.has(redisKey) || this.#unsynced.size < this.#maxUnsynced) {
      // Deleted first so the Map's order stays the order of the last writes.
      this.#unsynced.delete(redisKey);
      this.#unsynced.set(redisKey, ++this.#generation);
      return;
    }
    this.#metrics.unsyncedDropped();
    if (!this.#overflowWarned) {
      this.#overflowWarned = true;
      this.#logger.warn(
        { limit: this.#maxUnsynced, operation },
        'too many local-only writes to track: Redis may serve an older copy of the keys not tracked until its TTL',
      );
    }
  }

  /** Redis took a write of these keys issued at generation `issuedAt`: forget them unless written locally since. */
  #synced(redisKeys: readonly string[], issuedAt: number): void {
    this.#refusalWarned = false;
    for (const redisKey of redisKeys) {
      const generation = this.#unsynced.get(redisKey);
      if (generation !== undefined && generation <= issuedAt) this.#unsynced.delete(redisKey);
    }
  }

  async #getOrLoad<T>(key: string, redisKey: string, ttlMs: number, loader: () => Promise<T> | T) {
    const found = await this.#lookupQuietly<T>(key, redisKey);
    if (found) return found;
    const value = await loader();
    const result: CacheResult<T> = { value, source: 'loader' };
    // undefined is how a miss is spelled: it is returned, never cached.
    if (value === undefined) return result;
    let json: string;
    try {
      json = encode(key, value);
    } catch (error) {
      this.#logger.warn({ err: error, key }, 'getOrSet: the value has no JSON form: returned, not cached');
      return result;
    }
    // In the background: the caller has its value now, not one Redis deadline later. Commands on
    // one connection run in order, so a later GET of this key still sees this SET.
    this.#store(key, redisKey, json, ttlMs, false).catch((error: unknown) => {
      this.#logger.warn({ err: error, key }, 'getOrSet: caching the value failed');
    });
    return result;
  }

  /** `get` for getOrSet: every cache problem is a miss (and logged), so the loader answers. */
  async #lookupQuietly<T>(key: string, redisKey: string): Promise<CacheHit<T> | undefined> {
    let json: string | null;
    try {
      json = await this.#redis((client) => client.get(redisKey));
    } catch (error) {
      this.#metrics.lookup('redis', 'error');
      if (isCallerError(error)) {
        this.#logger.warn(
          { err: error, key },
          'getOrSet: Redis refused GET: treated as a miss, the value will be overwritten',
        );
        return undefined;
      }
      this.#fellBack('getOrSet', error);
      return this.#fromLocal<T>(redisKey);
    }
    this.reconcile();
    try {
      return this.#answer<T>(key, redisKey, json);
    } catch (error) {
      this.#logger.warn(
        { err: error, key },
        'getOrSet: cached value unreadable: treated as a miss, it will be overwritten',
      );
      return undefined;
    }
  }

  /** Writes both tiers; Redis unavailable leaves the value in the local tier only, its key tracked. */
  async #store(
    key: string,
    redisKey: string,
    json: string,
    ttlMs: number,
    throwCallerErrors: boolean,
  ): Promise<CacheWriteTier> {
    if (this.#closed) return 'local';
    // Always kept locally too, so an outage starts with a warm local tier.
    this.#local.set(redisKey, json, ttlMs);
    const issuedAt = this.#generation;
    try {
      await this.#redis((client) => client.set(redisKey, json, { expiration: { type: 'PX', value: ttlMs } }));
    } catch (error) {
      if (isCallerError(error)) {
        if (throwCallerErrors) throw new CacheCommandError(key, 'SET', error);
        this.#logger.warn({ err: error, key }, 'getOrSet: Redis refused SET: the value is cached locally only');
        return 'local';
      }
      this.#wroteLocally('set', redisKey, error);
      return 'local';
    }
    this.#synced([redisKey], issuedAt);
    this.reconcile();
    return 'redis';
  }

  /** What Redis answered for `redisKey`, unless its last write reached only the local tier: then the local tier answers. */
  #answer<T>(key: string, redisKey: string, json: string | null): CacheHit<T> | undefined {
    if (!this.#unsynced.has(redisKey)) return this.#fromRedis<T>(key, json);
    // Redis may hold an older copy (or one this client deleted): not served until reconciled.
    this.#metrics.lookup('redis', 'miss');
    return this.#fromLocal<T>(redisKey);
  }

  #fromRedis<T>(key: string, json: string | null): CacheHit<T> | undefined {
    if (json === null) {
      this.#metrics.lookup('redis', 'miss');
      return undefined;
    }
    let value: unknown;
    try {
      value = decode(key, json);
    } catch (error) {
      this.#metrics.lookup('redis', 'error');
      throw error;
    }
    this.#metrics.lookup('redis', 'hit');
    return { value: value as T, source: 'redis' };
  }

  #fromLocal<T>(redisKey: string): CacheHit<T> | undefined {
    const json = this.#local.get(redisKey);
    if (json === undefined) {
      this.#metrics.lookup('local', 'miss');
      return undefined;
    }
    this.#metrics.lookup('local', 'hit');
    // Written by this client from JSON.stringify: always parses.
    return { value: JSON.parse(json) as T, source: 'local' };
  }

  /** Per call, so at debug: the outage itself is logged once by the connection and the breaker. */
  #fellBack(operation: string, error: unknown): void {
    this.#logger.debug(
      { operation, error: error instanceof Error ? error.constructor.name : typeof error, reason: errorMessage(error) },
      'redis unavailable: local tier used',
    );
  }

  #checkOpen(): void {
    if (this.#closed) throw new CacheClosedError();
  }
}
