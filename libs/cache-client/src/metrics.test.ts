import { BreakerRegistry } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { sharedServer } from '@gl-vcci/upstreams/servers';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheRegistry, rawRedis, uniquePrefix } from '../test/support.js';
import { createCacheClient } from './client.js';
import { createCacheMetrics, REQUESTS_METRIC } from './metrics.js';
import type { CacheClient } from './types.js';

const shared = await sharedServer('Redis', 'REDIS_URL', 'redis://127.0.0.1:6379');

const HEADER = `# HELP greenlang_cache_requests_total Cache lookups by tier (redis, local) and result (hit, miss, error); mget counts each key
# TYPE greenlang_cache_requests_total counter`;

describe('greenlang_cache_requests_total', () => {
  let cache: CacheClient | undefined;
  let prefix = '';
  afterEach(async () => {
    await cache?.close();
    cache = undefined;
    if (prefix === '') return;
    const raw = await rawRedis(shared.url);
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(keys);
    raw.destroy();
    prefix = '';
  });

  it.skipIf(!shared.available)(
    'counts each lookup by tier and result: the exact text after a scripted run',
    async () => {
      const { registry, prom } = cacheRegistry();
      prefix = uniquePrefix();
      cache = createCacheClient({ url: shared.url, registry, keyPrefix: prefix });
      await cache.set('a', 1, 60_000);
      await cache.get('a'); // redis hit
      await cache.get('b'); // redis miss
      await cache.mget(['a', 'b']); // redis hit, redis miss
      await cache.getOrSet('c', 60_000, () => 3); // redis miss, loader
      await cache.getOrSet('c', 60_000, () => 3); // redis hit
      registry.get('cache.redis')!.forceOpen();
      await cache.get('a'); // redis error, local hit
      await cache.get('b'); // redis error, local miss
      await cache.getOrSet('d', 60_000, () => 4); // redis error, local miss, loader

      expect(await prom.getSingleMetricAsString(REQUESTS_METRIC)).toBe(`${HEADER}
greenlang_cache_requests_total{tier="redis",result="hit"} 3
greenlang_cache_requests_total{tier="redis",result="miss"} 3
greenlang_cache_requests_total{tier="redis",result="error"} 3
greenlang_cache_requests_total{tier="local",result="hit"} 1
greenlang_cache_requests_total{tier="local",result="miss"} 2`);
      expect(await prom.getSingleMetricAsString('greenlang_circuit_breaker_calls_total')).toBe(
        `# HELP greenlang_circuit_breaker_calls_total Calls through the circuit by outcome: success, failure, rejected, ignored, timeout
# TYPE greenlang_circuit_breaker_calls_total counter
greenlang_circuit_breaker_calls_total{circuit_name="cache.redis",status="success"} 7
greenlang_circuit_breaker_calls_total{circuit_name="cache.redis",status="failure"} 0
greenlang_circuit_breaker_calls_total{circuit_name="cache.redis",status="rejected"} 4
greenlang_circuit_breaker_calls_total{circuit_name="cache.redis",status="ignored"} 0
greenlang_circuit_breaker_calls_total{circuit_name="cache.redis",status="timeout"} 0`,
      );
    },
  );

  it('has every series at 0 from the start, and two clients on one registry share them', async () => {
    const prom = new Registry();
    const first = createCacheMetrics(prom);
    const second = createCacheMetrics(prom);
    first.lookup('redis', 'hit');
    second.lookup('redis', 'hit');
    expect(await prom.getSingleMetricAsString(REQUESTS_METRIC)).toBe(`${HEADER}
greenlang_cache_requests_total{tier="redis",result="hit"} 2
greenlang_cache_requests_total{tier="redis",result="miss"} 0
greenlang_cache_requests_total{tier="redis",result="error"} 0
greenlang_cache_requests_total{tier="local",result="hit"} 0
greenlang_cache_requests_total{tier="local",result="miss"} 0`);
  });

  it('publishes nothing when the registry has metrics off', () => {
    const registry = new BreakerRegistry({ metrics: false, logger: silentLogger() });
    expect(registry.metricsRegistry).toBeUndefined();
    expect(() => createCacheMetrics(registry.metricsRegistry).lookup('local', 'miss')).not.toThrow();
  });
});
