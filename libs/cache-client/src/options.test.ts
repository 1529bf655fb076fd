import { ConfigError } from '@gl-vcci/breaker-core';
import { freePort } from '@gl-vcci/upstreams/servers';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheRegistry } from '../test/support.js';
import { createCacheClient } from './client.js';
import { CacheArgumentError } from './errors.js';
import { checkKey, checkKeys, checkTtl, resolveOptions } from './options.js';
import type { CacheClient, CacheClientOptions } from './types.js';

// Clients here point at a port nobody listens on: options and config are all that is looked at.
const deadUrl = `redis://127.0.0.1:${await freePort()}`;

describe('createCacheClient options', () => {
  const opened: CacheClient[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
  });
  const open = (options: CacheClientOptions) => {
    const client = createCacheClient(options);
    opened.push(client);
    return client;
  };
  const refusal = (options: unknown): ConfigError => {
    try {
      open(options as CacheClientOptions);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('refuses bad options with one ConfigError naming every field', () => {
    const { registry } = cacheRegistry();
    const error = refusal({
      url: 'http://localhost:6379',
      registry,
      local: { maxEntries: 0 },
      connection: { connectTimeoutMs: -1 },
      keyprefix: 'typo:',
    });
    expect(error.message).toBe(
      'createCacheClient: url: expected a redis:// or rediss:// URL, got a http:// URL (not shown); ' +
        'local.maxEntries: expected a positive integer, got 0; ' +
        'connection.connectTimeoutMs: expected a positive integer, got -1; ' +
        '(root): Unrecognized key: "keyprefix"',
    );
    expect(error.issues.map((i) => i.path)).toEqual(['url', 'local.maxEntries', 'connection.connectTimeoutMs', '']);
  });

  it('bounds the local tier at 50 MiB of JSON text unless local.maxBytes says otherwise', () => {
    const { registry } = cacheRegistry();
    expect(resolveOptions({ url: deadUrl, registry }).localMaxBytes).toBe(52_428_800);
    expect(resolveOptions({ url: deadUrl, registry, local: { maxBytes: 1_000 } }).localMaxBytes).toBe(1_000);
  });

  it('refuses a local.maxBytes that is not a positive integer', () => {
    const { registry } = cacheRegistry();
    expect(refusal({ url: deadUrl, registry, local: { maxBytes: 0 } }).message).toBe(
      'createCacheClient: local.maxBytes: expected a positive integer, got 0',
    );
  });

  it('never echoes a URL, which may carry a password', () => {
    const { registry } = cacheRegistry();
    expect(refusal({ url: 'redis//:s3cret@host', registry }).message).not.toContain('s3cret');
  });

  it('refuses a registry that is not one', () => {
    expect(refusal({ url: deadUrl, registry: {} }).message).toBe(
      'createCacheClient: registry: expected a BreakerRegistry, got an empty object',
    );
  });

  it('refuses a PING interval that is not shorter than the socket timeout', () => {
    const { registry } = cacheRegistry();
    expect(refusal({ url: deadUrl, registry, connection: { socketTimeoutMs: 1_000 } }).message).toBe(
      'createCacheClient: connection.pingIntervalMs: expected less than connection.socketTimeoutMs (1000), or an idle connection is dropped, got 1000',
    );
  });

  it('a second client on the registry shares the circuit when its breaker settings match, and is refused when they differ', () => {
    const { registry } = cacheRegistry();
    open({ url: deadUrl, registry, breaker: { failMax: 3 } });
    open({ url: deadUrl, registry, breaker: { failMax: 3 } });
    expect(registry.breakers().map((breaker) => breaker.name)).toEqual(['cache.redis']);
    expect(refusal({ url: deadUrl, registry, breaker: { failMax: 5 } })).toMatchObject({
      issues: [{ path: 'failMax' }],
    });
    expect(() => open({ url: deadUrl, registry, circuitName: 'cache.sessions' })).not.toThrow();
  });

  it('gives every call a 500 ms deadline when the config sets no call_timeout', () => {
    const { registry } = cacheRegistry('cache:\n  redis:\n    fail_max: 3\n');
    open({ url: deadUrl, registry });
    expect(registry.get('cache.redis')!.config).toMatchObject({ callTimeoutMs: 500, failMax: 3 });
  });

  it("takes the deadline from the config's call_timeout, and the breaker option over both", () => {
    const fromFile = cacheRegistry('cache:\n  redis:\n    call_timeout: 0.25\n');
    open({ url: deadUrl, registry: fromFile.registry });
    expect(fromFile.registry.get('cache.redis')!.config.callTimeoutMs).toBe(250);
    const fromOption = cacheRegistry('cache:\n  redis:\n    call_timeout: 0.25\n');
    open({ url: deadUrl, registry: fromOption.registry, breaker: { callTimeoutMs: 100 } });
    expect(fromOption.registry.get('cache.redis')!.config.callTimeoutMs).toBe(100);
  });

  it("keeps local entries at most the config's cache_ttl", async () => {
    const { registry, clock } = cacheRegistry('cache:\n  redis:\n    cache_ttl: 2\n');
    const cache = open({ url: deadUrl, registry });
    await cache.set('k', 'v', 3_600_000);
    clock.advance(1_999);
    expect(await cache.get('k')).toEqual({ value: 'v', source: 'stale', tier: 'local' });
    clock.advance(2);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('refuses a cache_ttl of 0, which would keep nothing locally', () => {
    const { registry } = cacheRegistry('cache:\n  redis:\n    cache_ttl: 0\n');
    expect(refusal({ url: deadUrl, registry }).message).toBe(
      '<text>: cache.redis.cache_ttl: expected a positive number of seconds, got 0',
    );
  });
});

describe('argument checks', () => {
  it('a key must be a non-empty string', () => {
    expect(() => checkKey('get', '')).toThrow(CacheArgumentError);
    expect(() => checkKey('get', '')).toThrow('get: key: expected a non-empty string, got ""');
    expect(() => checkKey('get', 42)).toThrow('get: key: expected a non-empty string, got 42');
  });

  it('keys must be an array of non-empty strings, each named by its index', () => {
    expect(() => checkKeys('mget', 'a')).toThrow('mget: keys: expected an array, got "a"');
    expect(() => checkKeys('mget', ['a', ''])).toThrow('mget: keys[1]: expected a non-empty string, got ""');
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1000'])('a TTL of %s is refused', (ttl) => {
    expect(() => checkTtl('set', ttl)).toThrow(/^set: ttlMs: expected a positive integer \(milliseconds\), got /);
  });
});
