import { type CircuitBreaker, errorMessage } from '@gl-vcci/breaker-core';
import { LocalCache } from './cache.js';
import { isCallerError } from './classify.js';
import { decode, encode } from './codec.js';
import { type RedisClient, RedisConnection } from './connection.js';
import { CacheClosedError, CacheCommandError } from './errors.js';
import { type CacheMetrics, createCacheMetrics } from './metrics.js';
import { checkKey, checkKeys, checkLoader, checkTtl, resolveOptions } from './options.js';
import type { CacheClient, CacheClientOptions, CacheHit, CacheLogger, CacheResult, CacheStatus } from './types.js';

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
  const connection = new RedisConnection({
    url: o.url,
    connectTimeoutMs: o.connectTimeoutMs,
    socketTimeoutMs: o.socketTimeoutMs,
    pingIntervalMs: o.pingIntervalMs,
    reconnectMaxDelayMs: o.reconnectMaxDelayMs,
    logger,
    onError: () => metrics.connectionError(),
  });
  const local = new LocalCache({ maxEntries: o.localMaxEntries, maxTtlMs: o.localMaxTtlMs, clock: o.registry.clock });
  return new RedisCache(breaker, connection, local, metrics, logger, o.keyPrefix);
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
  #closed = false;

  constructor(
    breaker: CircuitBreaker,
    connection: RedisConnection,
    local: LocalCache,
    metrics: CacheMetrics,
    logger: CacheLogger,
    prefix: string,
  ) {
    this.#breaker = breaker;
    this.#connection = connection;
    this.#local = local;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#prefix = prefix;
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
    return this.#fromRedis<T>(key, json);
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
    return keys.map((key, i) => this.#fromRedis<T>(key, values[i] ?? null));
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.#checkOpen();
    checkKey('set', key);
    checkTtl('set', ttlMs);
    const json = encode(key, value);
    await this.#store(key, this.#prefix + key, json, ttlMs, true);
  }

  async del(key: string): Promise<void> {
    this.#checkOpen();
    checkKey('del', key);
    const redisKey = this.#prefix + key;
    this.#local.delete(redisKey);
    try {
      await this.#redis((client) => client.del(redisKey));
    } catch (error) {
      if (isCallerError(error)) throw new CacheCommandError(key, 'DEL', error);
      // Redis keeps its copy until its TTL: only the local one could be removed.
      this.#fellBack('del', error);
    }
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
      closed: this.#closed,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#connection.close();
    this.#local.clear();
  }

  /** One command through the circuit, which owns its deadline: it settles then even if Redis never answers. */
  #redis<R>(command: (client: RedisClient) => Promise<R>): Promise<R> {
    // A call still running when close() came (its loader, say) must not count against the circuit.
    if (this.#closed) return Promise.reject(new CacheClosedError());
    // The signal also drops a command node-redis has not written yet when the deadline passes.
    return this.#breaker.execute((signal) => this.#connection.run((client) => command(client.withAbortSignal(signal))));
  }

  async #getOrLoad<T>(key: string, redisKey: string, ttlMs: number, loader: () => Promise<T> | T) {
    const found = await this.#lookupQuietly<T>(key, redisKey);
    if (found) return found;
    const value = await loader();
    const result: CacheResult<T> = { value, source: 'loader' };
    // undefined is how a miss is spelled: it is returned, never cached.
    if (value === undefined) return result;
    await this.#store(key, redisKey, encode(key, value), ttlMs, false);
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
    try {
      return this.#fromRedis<T>(key, json);
    } catch (error) {
      this.#logger.warn(
        { err: error, key },
        'getOrSet: cached value unreadable: treated as a miss, it will be overwritten',
      );
      return undefined;
    }
  }

  /** Writes both tiers; Redis unavailable leaves the value in the local tier only. */
  async #store(key: string, redisKey: string, json: string, ttlMs: number, throwCallerErrors: boolean): Promise<void> {
    if (this.#closed) return;
    // Always kept locally too, so an outage starts with a warm local tier.
    this.#local.set(redisKey, json, ttlMs);
    try {
      await this.#redis((client) => client.set(redisKey, json, { expiration: { type: 'PX', value: ttlMs } }));
    } catch (error) {
      if (isCallerError(error)) {
        if (throwCallerErrors) throw new CacheCommandError(key, 'SET', error);
        this.#logger.warn({ err: error, key }, 'getOrSet: Redis refused SET: the value is cached locally only');
        return;
      }
      this.#fellBack('set', error);
    }
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
