import { type CircuitBreaker, isTimeoutError, type Logger } from '@gl-vcci/breaker-core';
import { LocalStore, loggedError, raceAbort, SingleFlight } from '@gl-vcci/breaker-core/client';
import { classifyRedisError, isCallerError, isCredentialsRefusal, isWriteRefusal, replyPrefix } from './classify.js';
import { decode, encode } from './codec.js';
import { type RedisClient, RedisConnection } from './connection.js';
import { CacheClosedError, CacheRequestError } from './errors.js';
import { type CacheMetrics, createCacheMetrics } from './metrics.js';
import { checkCallOptions, checkKey, checkKeys, checkLoader, checkTtl, DEFAULTS, resolveOptions } from './options.js';
import type {
  CacheCallOptions,
  CacheClient,
  CacheClientOptions,
  CacheHit,
  CacheResult,
  CacheStatus,
  CacheWriteTier,
} from './types.js';
import { UnsyncedKeys } from './unsynced.js';

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
  const breaker = o.registry.breaker(o.circuitName, o.breaker, {
    classify: classifyRedisError,
    callTimeoutMs: DEFAULTS.callTimeoutMs,
  });
  const metrics = createCacheMetrics(o.registry.metricsRegistry);
  // JSON text, not values: a caller that mutates what it got back cannot change what the next one gets.
  const local = new LocalStore<string>({
    maxEntries: o.localMaxEntries,
    maxBytes: o.localMaxBytes,
    sizeOf: (json) => json.length,
    maxTtlMs: o.localMaxTtlMs,
    clock: o.registry.clock,
  });
  let cache: RedisCache | undefined;
  const connection = new RedisConnection({
    url: o.url,
    connectTimeoutMs: o.connectTimeoutMs,
    socketTimeoutMs: o.socketTimeoutMs,
    pingIntervalMs: o.pingIntervalMs,
    reconnectMaxDelayMs: o.reconnectMaxDelayMs,
    logger,
    onError: () => metrics.connectionError(),
    onReady: () => cache?.recovered(),
  });
  // Tracks as many local-only keys as the local tier holds entries.
  cache = new RedisCache({
    breaker,
    connection,
    local,
    metrics,
    logger,
    prefix: o.keyPrefix,
    unsynced: new UnsyncedKeys(o.localMaxEntries),
  });
  return cache;
}

interface Parts {
  breaker: CircuitBreaker;
  connection: RedisConnection;
  local: LocalStore<string>;
  metrics: CacheMetrics;
  logger: Logger;
  prefix: string;
  unsynced: UnsyncedKeys;
}

class RedisCache implements CacheClient {
  readonly #breaker: CircuitBreaker;
  readonly #connection: RedisConnection;
  readonly #local: LocalStore<string>;
  readonly #metrics: CacheMetrics;
  readonly #logger: Logger;
  readonly #prefix: string;
  /** getOrSet calls running, by Redis key: concurrent misses of one key share one loader call. */
  readonly #flight = new SingleFlight<CacheResult<unknown>>();
  readonly #unsynced: UnsyncedKeys;
  #reconciling: Promise<void> | undefined;
  /** The overflow of #unsynced was logged at warn; reset once everything is reconciled. */
  #overflowWarned = false;
  /** A write refusal (OOM, READONLY …) was logged at warn; reset by the next write Redis takes. */
  #refusalWarned = false;
  /** A credentials refusal on a command (NOPERM …) was logged at error; reset by the next success. */
  #credentialsLogged = false;
  #closed = false;

  constructor(parts: Parts) {
    this.#breaker = parts.breaker;
    this.#connection = parts.connection;
    this.#local = parts.local;
    this.#metrics = parts.metrics;
    this.#logger = parts.logger;
    this.#prefix = parts.prefix;
    this.#unsynced = parts.unsynced;
  }

  async get<T = unknown>(key: string, options?: CacheCallOptions): Promise<CacheHit<T> | undefined> {
    this.#checkOpen();
    checkKey('get', key);
    checkCallOptions('get', options);
    const signal = options?.signal;
    const redisKey = this.#prefix + key;
    let json: string | null;
    try {
      json = await this.#redis((client) => client.get(redisKey), signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      this.#metrics.lookup('redis', 'error');
      if (isCallerError(error)) throw new CacheRequestError(key, 'GET', error);
      this.#fellBack('get', error);
      return this.#fromLocal<T>(redisKey);
    }
    this.#succeeded();
    return this.#answer<T>(key, redisKey, json);
  }

  async mget<T = unknown>(
    keys: readonly string[],
    options?: CacheCallOptions,
  ): Promise<Array<CacheHit<T> | undefined>> {
    this.#checkOpen();
    checkKeys('mget', keys);
    checkCallOptions('mget', options);
    const signal = options?.signal;
    if (keys.length === 0) return [];
    const redisKeys = keys.map((key) => this.#prefix + key);
    let refused = '';
    let values: Array<string | null>;
    try {
      // One GET per key rather than MGET, which answers nil for a key holding a list: a WRONGTYPE
      // key must be the same error here as in `get`. node-redis writes them in one round trip.
      values = await this.#redis(async (client) => {
        const replies = await Promise.allSettled(redisKeys.map((redisKey) => client.get(redisKey)));
        let rejection: unknown;
        for (const [i, reply] of replies.entries()) {
          if (reply.status === 'fulfilled') continue;
          // Redis unavailable wins over a caller's mistake: the local tier answers every key.
          if (!isCallerError(reply.reason)) throw reply.reason;
          if (refused === '') [refused, rejection] = [keys[i]!, reply.reason];
        }
        if (refused !== '') throw rejection;
        return replies.map((reply) => (reply as PromiseFulfilledResult<string | null>).value);
      }, signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      for (let i = 0; i < keys.length; i++) this.#metrics.lookup('redis', 'error');
      if (isCallerError(error)) throw new CacheRequestError(refused, 'GET', error);
      this.#fellBack('mget', error);
      return redisKeys.map((redisKey) => this.#fromLocal<T>(redisKey));
    }
    this.#succeeded();
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
    this.#local.remove(redisKey);
    const ticket = this.#unsynced.writing(redisKey);
    try {
      await this.#redis((client) => client.del(redisKey));
    } catch (error) {
      this.#unsynced.settled(redisKey, ticket, false);
      if (isCallerError(error)) throw new CacheRequestError(key, 'DEL', error);
      // Redis keeps its copy for now: tracked, so it is never served again and deleted on recovery.
      this.#wroteLocally('del', redisKey, error);
      return 'local';
    }
    this.#unsynced.settled(redisKey, ticket, true);
    this.#refusalWarned = false;
    this.#succeeded();
    return 'redis';
  }

  getOrSet<T>(
    key: string,
    ttlMs: number,
    loader: () => Promise<T> | T,
    options?: CacheCallOptions,
  ): Promise<CacheResult<T>> {
    try {
      this.#checkOpen();
      checkKey('getOrSet', key);
      checkTtl('getOrSet', ttlMs);
      checkLoader('getOrSet', loader);
      checkCallOptions('getOrSet', options);
    } catch (error) {
      return Promise.reject(error);
    }
    const redisKey = this.#prefix + key;
    const shared = this.#flight.run(redisKey, () => this.#getOrLoad(key, redisKey, ttlMs, loader));
    // A caller that gives up stops its own wait only: the others keep the shared call.
    return raceAbort(shared as Promise<CacheResult<T>>, options?.signal);
  }

  status(): CacheStatus {
    return {
      circuits: { [this.#breaker.name]: this.#breaker.state },
      closed: this.#closed,
      connected: this.#connection.ready,
      localEntries: this.#local.size,
      unsyncedKeys: this.#unsynced.size,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#connection.close();
    this.#local.clear();
  }

  /**
   * A connection became ready: Redis answers again. An open circuit is told at once (its open
   * period was only a guess at how long the outage lasts), so the next calls are trials instead
   * of going to the local tier until the period ends; then the local-only writes are reconciled.
   */
  recovered(): void {
    if (this.#closed) return;
    this.#breaker.allowTrial();
    this.#reconcile();
  }

  /**
   * Deletes in Redis, in batches of RECONCILE_BATCH keys, the keys written or deleted locally only,
   * so the older copies Redis kept are never served again; the local tier keeps the newer value
   * until its TTL. Runs in the background, once at a time, when a connection becomes ready and
   * after each command Redis answered; does nothing while the circuit is open. Never throws: what
   * it could not delete stays tracked for the next run.
   */
  #reconcile(): void {
    if (this.#reconciling || this.#closed || this.#unsynced.size === 0) return;
    if (!this.#connection.ready || this.#breaker.state === 'open') return;
    this.#reconciling = this.#reconcileOnce().finally(() => {
      this.#reconciling = undefined;
    });
  }

  async #reconcileOnce(): Promise<void> {
    const entries = this.#unsynced.snapshot();
    try {
      for (let i = 0; i < entries.length && !this.#closed; i += RECONCILE_BATCH) {
        const slice = entries.slice(i, i + RECONCILE_BATCH);
        if (this.#unsynced.deletable(slice).length === 0) continue;
        let batch: string[] = [];
        await this.#redis((client) => {
          // Decided as the DEL is issued, not when the run began: a write since then is never undone.
          batch = this.#unsynced.deletable(slice);
          return batch.length === 0 ? Promise.resolve(0) : client.del(batch);
        });
        this.#unsynced.deleted(batch, slice);
      }
    } catch (error) {
      this.#logger.debug(
        { error: loggedError(error) },
        'reconciling local-only writes failed: retried once Redis answers again',
      );
      return;
    }
    if (this.#unsynced.size === 0) this.#overflowWarned = false;
  }

  /** One command through the circuit, which owns its deadline: it settles then even if Redis never answers. */
  #redis<R>(command: (client: RedisClient) => Promise<R>, signal?: AbortSignal): Promise<R> {
    // A call still running when close() came (its loader, say) must not count against the circuit.
    if (this.#closed) return Promise.reject(new CacheClosedError());
    // Declared without parameters, so the circuit makes no signal per call: at a deadline the
    // connection drops every command still unwritten instead (a socket jammed that long holds
    // all of them), so none reaches Redis late.
    return this.#breaker
      .execute(() => this.#connection.run(command), signal === undefined ? undefined : { signal })
      .catch((error: unknown) => {
        if (isTimeoutError(error)) this.#connection.dropUnwritten(error);
        throw error;
      });
  }

  /** Redis answered: the refusals logged once may be logged again, and local-only writes can be reconciled. */
  #succeeded(): void {
    this.#credentialsLogged = false;
    this.#reconcile();
  }

  /** The write of `redisKey` reached only the local tier: track it for reconciliation, within the bound. */
  #wroteLocally(operation: string, redisKey: string, error: unknown): void {
    if (isWriteRefusal(error)) {
      if (!this.#refusalWarned) {
        this.#refusalWarned = true;
        this.#logger.warn(
          { error: loggedError(error), operation },
          'redis refuses writes: reads still served by Redis, writes kept in the local tier',
        );
      }
    } else {
      this.#fellBack(operation, error);
    }
    if (this.#unsynced.track(redisKey)) return;
    this.#metrics.unsyncedDropped();
    if (!this.#overflowWarned) {
      this.#overflowWarned = true;
      this.#logger.warn(
        { limit: this.#unsynced.limit, operation },
        'too many local-only writes to track: Redis may serve an older copy of the keys not tracked until its TTL',
      );
    }
  }

  async #getOrLoad<T>(
    key: string,
    redisKey: string,
    ttlMs: number,
    loader: () => Promise<T> | T,
  ): Promise<CacheResult<T>> {
    const found = await this.#lookupQuietly<T>(key, redisKey);
    if (found) return found;
    const value = await loader();
    const result: CacheResult<T> = { value, source: 'live', tier: 'loader' };
    // undefined is how a miss is spelled: it is returned, never cached.
    if (value === undefined) return result;
    let json: string;
    try {
      json = encode(key, value);
    } catch (error) {
      this.#logger.warn(
        { error: loggedError(error), key },
        'getOrSet: the value has no JSON form: returned, not cached',
      );
      return result;
    }
    // In the background: the caller has its value now, not one Redis deadline later. Commands on
    // one connection run in order, so a later GET of this key still sees this SET.
    this.#store(key, redisKey, json, ttlMs, false).catch((error: unknown) => {
      this.#logger.warn({ error: loggedError(error), key }, 'getOrSet: caching the value failed');
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
          { error: loggedError(error), key },
          'getOrSet: Redis refused GET: treated as a miss, the value will be overwritten',
        );
        return undefined;
      }
      this.#fellBack('getOrSet', error);
      return this.#fromLocal<T>(redisKey);
    }
    this.#succeeded();
    try {
      return this.#answer<T>(key, redisKey, json);
    } catch (error) {
      this.#logger.warn(
        { error: loggedError(error), key },
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
    this.#local.put(redisKey, json, ttlMs);
    const ticket = this.#unsynced.writing(redisKey);
    try {
      await this.#redis((client) => client.set(redisKey, json, { expiration: { type: 'PX', value: ttlMs } }));
    } catch (error) {
      this.#unsynced.settled(redisKey, ticket, false);
      if (isCallerError(error)) {
        if (throwCallerErrors) throw new CacheRequestError(key, 'SET', error);
        this.#logger.warn(
          { error: loggedError(error), key },
          'getOrSet: Redis refused SET: the value is cached locally only',
        );
        return 'local';
      }
      this.#wroteLocally('set', redisKey, error);
      return 'local';
    }
    this.#unsynced.settled(redisKey, ticket, true);
    this.#refusalWarned = false;
    this.#succeeded();
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
    return { value: value as T, source: 'live', tier: 'redis' };
  }

  #fromLocal<T>(redisKey: string): CacheHit<T> | undefined {
    const json = this.#local.peek(redisKey);
    if (json === undefined) {
      this.#metrics.lookup('local', 'miss');
      return undefined;
    }
    this.#metrics.lookup('local', 'hit');
    // Written by this client from JSON.stringify: always parses.
    return { value: JSON.parse(json) as T, source: 'stale', tier: 'local' };
  }

  /**
   * Per call, so at debug: the outage itself is logged once by the connection and the breaker.
   * Credentials refused on a command (NOPERM) are the deployment's problem: at error, once until
   * Redis answers again.
   */
  #fellBack(operation: string, error: unknown): void {
    if (isCredentialsRefusal(error) && !this.#credentialsLogged) {
      this.#credentialsLogged = true;
      this.#logger.error(
        { operation, error: loggedError(error) },
        `credentials refused by redis (${replyPrefix(error)}): check the user, password and ACL rights of the URL`,
      );
      return;
    }
    this.#logger.debug({ operation, error: loggedError(error) }, 'redis unavailable: local tier used');
  }

  #checkOpen(): void {
    if (this.#closed) throw new CacheClosedError();
  }
}
