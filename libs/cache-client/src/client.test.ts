import type { Logger } from '@gl-vcci/breaker-core';
import type { TestRegistry } from '@gl-vcci/breaker-core/testing';
import { capturingLogger, waitFor } from '@gl-vcci/breaker-core/testing';
import { sharedServer } from '@gl-vcci/upstreams/servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { breakerCalls, cacheRegistry, rawRedis, uniquePrefix } from '../test/support.js';
import { createCacheClient } from './client.js';
import {
  CacheArgumentError,
  CacheClosedError,
  CacheDecodeError,
  CacheRequestError,
  CacheSerializationError,
  isCacheRequestError,
} from './errors.js';
import { keyValueStore } from './store.js';
import type { CacheClient } from './types.js';

const shared = await sharedServer('Redis', 'REDIS_URL', 'redis://127.0.0.1:6379');

describe.skipIf(!shared.available)('createCacheClient against the shared Redis', () => {
  let raw: Awaited<ReturnType<typeof rawRedis>>;
  let t: TestRegistry;
  let cache: CacheClient;
  let prefix: string;

  beforeAll(async () => {
    raw = await rawRedis(shared.url);
  });
  afterAll(async () => {
    raw.destroy();
  });

  const open = (logger?: Logger) => {
    t = cacheRegistry(undefined, logger);
    prefix = uniquePrefix();
    cache = createCacheClient({ url: shared.url, registry: t.registry, keyPrefix: prefix });
    return cache;
  };
  afterEach(async () => {
    await cache?.close();
    // Only this test's keys: never a pattern that could match the shared server's other data.
    if (!prefix?.startsWith('test:cache-client:')) return;
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(keys);
  });

  it('set then get gives back the JSON round trip, from Redis', async () => {
    open();
    const value = { factor: 0.233, unit: 'kgCO2e/kWh', tags: ['grid', 'DE'], since: new Date(0) };
    await cache.set('factor:DE', value, 60_000);
    expect(await cache.get('factor:DE')).toEqual({
      value: { factor: 0.233, unit: 'kgCO2e/kWh', tags: ['grid', 'DE'], since: '1970-01-01T00:00:00.000Z' },
      source: 'live',
      tier: 'redis',
    });
  });

  it('stores the JSON text under keyPrefix + key, with the TTL, in Redis', async () => {
    open();
    await cache.set('a', { x: 1 }, 60_000);
    expect(await raw.get(`${prefix}a`)).toBe('{"x":1}');
    expect(await raw.get('a')).toBeNull();
    const pttl = await raw.pTTL(`${prefix}a`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('a miss resolves to undefined', async () => {
    open();
    expect(await cache.get('nothing-here')).toBeUndefined();
  });

  it('mget gives hits and misses in the order of the keys', async () => {
    open();
    await cache.set('a', 1, 60_000);
    await cache.set('c', 'three', 60_000);
    expect(await cache.mget(['a', 'b', 'c'])).toEqual([
      { value: 1, source: 'live', tier: 'redis' },
      undefined,
      { value: 'three', source: 'live', tier: 'redis' },
    ]);
    expect(await cache.mget([])).toEqual([]);
  });

  it('mget of many keys warns of no listener leak (one abort listener per pipelined GET)', async () => {
    open();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const keys = Array.from({ length: 50 }, (_, i) => `many:${i}`);
      expect(await cache.mget(keys)).toHaveLength(50);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('del removes the key from Redis and from the local tier', async () => {
    open();
    await cache.set('a', 1, 60_000);
    await cache.del('a');
    expect(await raw.exists(`${prefix}a`)).toBe(0);
    t.registry.get('cache.redis')!.forceOpen();
    expect(await cache.get('a')).toBeUndefined();
  });

  it('the first calls after creation wait for the connection instead of failing offline', async () => {
    open();
    await cache.set('early', 'bird', 60_000);
    expect(await raw.get(`${prefix}early`)).toBe('"bird"');
    expect(await breakerCalls(t.prom)).toMatchObject({ success: 1, failure: 0 });
  });

  it('getOrSet runs the loader on a miss, stores its value, then serves it from Redis', async () => {
    open();
    let calls = 0;
    const loader = async () => {
      calls++;
      return { total: 42 };
    };
    expect(await cache.getOrSet('report', 60_000, loader)).toEqual({
      value: { total: 42 },
      source: 'live',
      tier: 'loader',
    });
    // Written in the background, but before this GET on the same connection: Redis runs them in order.
    expect(await cache.getOrSet('report', 60_000, loader)).toEqual({
      value: { total: 42 },
      source: 'live',
      tier: 'redis',
    });
    expect(await raw.get(`${prefix}report`)).toBe('{"total":42}');
    expect(calls).toBe(1);
  });

  it('getOrSet runs the loader once for 1 000 concurrent misses of one key', async () => {
    open();
    let calls = 0;
    const loader = async () => {
      calls++;
      return 'computed';
    };
    const results = await Promise.all(Array.from({ length: 1_000 }, () => cache.getOrSet('hot', 60_000, loader)));
    expect(calls).toBe(1);
    expect(results.every((r) => r.value === 'computed' && r.tier === 'loader')).toBe(true);
    expect(await raw.get(`${prefix}hot`)).toBe('"computed"');
  });

  it("a caller's signal stops its own wait for getOrSet; the shared loader call goes on for the others", async () => {
    open();
    let release!: (value: string) => void;
    let calls = 0;
    const loader = () => {
      calls++;
      return new Promise<string>((resolve) => {
        release = resolve;
      });
    };
    const controller = new AbortController();
    const leaving = cache.getOrSet('slow', 60_000, loader, { signal: controller.signal });
    const staying = cache.getOrSet('slow', 60_000, loader);
    await waitFor(() => calls === 1, 'the loader to start');
    controller.abort(new Error('caller gave up'));
    await expect(leaving).rejects.toThrow('caller gave up');
    release('done');
    expect(await staying).toEqual({ value: 'done', source: 'live', tier: 'loader' });
    expect(calls).toBe(1);
    await expect(cache.get('slow', { signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already');
  });

  it('a loader error reaches every waiting caller and is not cached', async () => {
    open();
    const failing = async () => {
      throw new Error('ecoinvent is down');
    };
    const [a, b] = await Promise.allSettled([
      cache.getOrSet('k', 60_000, failing),
      cache.getOrSet('k', 60_000, failing),
    ]);
    expect(a).toMatchObject({ status: 'rejected', reason: { message: 'ecoinvent is down' } });
    expect(b).toMatchObject({ status: 'rejected', reason: { message: 'ecoinvent is down' } });
    expect(await cache.getOrSet('k', 60_000, () => 'fine')).toEqual({ value: 'fine', source: 'live', tier: 'loader' });
  });

  it('undefined from the loader is returned and not cached: it is how a miss is spelled', async () => {
    open();
    expect(await cache.getOrSet('absent', 60_000, () => undefined)).toEqual({
      value: undefined,
      source: 'live',
      tier: 'loader',
    });
    expect(await raw.exists(`${prefix}absent`)).toBe(0);
  });

  it('set refuses a value with no JSON form with an error naming the key, and stores nothing', async () => {
    open();
    await expect(cache.set('big', 10n, 60_000)).rejects.toThrow(CacheSerializationError);
    await expect(cache.set('big', 10n, 60_000)).rejects.toThrow('Cache value for key "big" cannot be stored as JSON');
    expect(await raw.exists(`${prefix}big`)).toBe(0);
  });

  it("getOrSet returns a loader value with no JSON form, caches nothing and logs a warning: it is not the caller's error", async () => {
    const { logger, lines } = capturingLogger();
    open(logger);
    let calls = 0;
    const loader = () => {
      calls++;
      return { id: 7n };
    };
    expect(await cache.getOrSet('big', 60_000, loader)).toEqual({ value: { id: 7n }, source: 'live', tier: 'loader' });
    expect(await cache.getOrSet('big', 60_000, loader)).toEqual({ value: { id: 7n }, source: 'live', tier: 'loader' });
    expect(calls).toBe(2);
    expect(await raw.exists(`${prefix}big`)).toBe(0);
    expect(cache.status().localEntries).toBe(0);
    const warnings = lines.filter((l) => l.msg === 'getOrSet: the value has no JSON form: returned, not cached');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ level: 40, key: 'big' });
  });

  it("set and del resolve to 'redis' when Redis took the write", async () => {
    open();
    expect(await cache.set('w', 1, 60_000)).toBe('redis');
    expect(await cache.del('w')).toBe('redis');
    expect(cache.status().unsyncedKeys).toBe(0);
  });

  it('get of a key holding a list rejects with CacheRequestError (WRONGTYPE) and never trips the circuit', async () => {
    open();
    await raw.lPush(`${prefix}list`, 'x');
    for (let i = 0; i < 5; i++) {
      const error = await cache.get('list').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheRequestError);
      expect(error).toMatchObject({ code: 'CACHE_REQUEST_REJECTED', key: 'list', command: 'GET' });
      expect((error as Error).message).toMatch(/WRONGTYPE/);
    }
    expect(t.registry.get('cache.redis')!.state).toBe('closed');
    expect(await breakerCalls(t.prom)).toMatchObject({ ignored: 5, failure: 0 });
  });

  it('mget with a key holding a list rejects like get: CacheRequestError naming that key, never a miss', async () => {
    open();
    await raw.lPush(`${prefix}list`, 'x');
    await cache.set('a', 1, 60_000);
    const fromGet = await cache.get('list').catch((e: unknown) => e);
    const fromMget = await cache.mget(['a', 'list', 'b']).catch((e: unknown) => e);
    for (const error of [fromGet, fromMget]) {
      expect(error).toBeInstanceOf(CacheRequestError);
      expect(error).toMatchObject({ code: 'CACHE_REQUEST_REJECTED', key: 'list', command: 'GET' });
      expect(isCacheRequestError(error)).toBe(true);
    }
    expect(await breakerCalls(t.prom)).toMatchObject({ ignored: 2, failure: 0 });
    expect(await cache.mget(['a', 'b'])).toEqual([{ value: 1, source: 'live', tier: 'redis' }, undefined]);
  });

  it('getOrSet over a WRONGTYPE key runs the loader and overwrites the key', async () => {
    open();
    await raw.lPush(`${prefix}list`, 'x');
    expect(await cache.getOrSet('list', 60_000, () => 'value')).toEqual({
      value: 'value',
      source: 'live',
      tier: 'loader',
    });
    expect(await cache.get('list')).toEqual({ value: 'value', source: 'live', tier: 'redis' });
    expect(await raw.get(`${prefix}list`)).toBe('"value"');
  });

  it('get of a value that is not JSON rejects with CacheDecodeError; getOrSet overwrites it', async () => {
    open();
    await raw.set(`${prefix}foreign`, 'plain text');
    await expect(cache.get('foreign')).rejects.toThrow(CacheDecodeError);
    expect(await cache.getOrSet('foreign', 60_000, () => ['json'])).toEqual({
      value: ['json'],
      source: 'live',
      tier: 'loader',
    });
    expect(await cache.get('foreign')).toEqual({ value: ['json'], source: 'live', tier: 'redis' });
  });

  it('rejects a bad key, TTL or loader, naming the method and the argument', async () => {
    open();
    await expect(cache.get('')).rejects.toMatchObject({
      code: 'CACHE_INVALID_ARGUMENT',
      message: 'get: key: expected a non-empty string, got ""',
      issues: [{ path: 'key', message: 'expected a non-empty string, got ""' }],
    });
    await expect(cache.get('')).rejects.toBeInstanceOf(CacheArgumentError);
    await expect(cache.set('k', 1, 0)).rejects.toThrow('set: ttlMs: expected a positive integer (milliseconds), got 0');
    await expect(cache.mget(['a', ''])).rejects.toThrow('mget: keys[1]: expected a non-empty string, got ""');
    await expect(cache.getOrSet('k', 1.5, () => 1)).rejects.toThrow('getOrSet: ttlMs: expected a positive integer');
    await expect(cache.getOrSet('k', 1000, 'not a function' as never)).rejects.toThrow(
      'getOrSet: loader: expected a function, got "not a function"',
    );
    await expect(cache.get('k', { sginal: 1 } as never)).rejects.toThrow('get: options: unknown option "sginal"');
    await expect(cache.mget(['k'], { signal: 'stop' } as never)).rejects.toThrow(
      'mget: options.signal: expected an AbortSignal, got "stop"',
    );
  });

  it("serves as another client's store (keyValueStore): values, misses, and a WRONGTYPE key or a non-JSON value as a miss", async () => {
    open();
    const factors = keyValueStore<{ kgCO2e: number }>(cache);
    await factors.set('DE', { kgCO2e: 0.38 }, 60_000);
    expect(await factors.get('DE')).toEqual({ kgCO2e: 0.38 });
    expect(await factors.get('FR')).toBeUndefined();
    await raw.lPush(`${prefix}list`, 'x');
    expect(await factors.get('list')).toBeUndefined();
    await raw.set(`${prefix}text`, 'not json');
    expect(await factors.get('text')).toBeUndefined();
  });

  it('calls after close() reject with CacheClosedError, and close() twice is harmless', async () => {
    open();
    await cache.close();
    await cache.close();
    await expect(cache.get('a')).rejects.toThrow(CacheClosedError);
    await expect(cache.getOrSet('a', 1000, () => 1)).rejects.toThrow(CacheClosedError);
    expect(cache.status()).toMatchObject({ closed: true, connected: false });
  });
});
