import { type TestRegistry, waitFor } from '@gl-vcci/breaker-core/testing';
import { type RedisServer, startRedis } from '@gl-vcci/upstreams/redis-server';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheRegistry, rawRedis } from '../test/support.js';
import { createCacheClient } from './client.js';
import type { CacheClient, CacheWriteTier } from './types.js';
import { UnsyncedKeys } from './unsynced.js';

// Reconciliation deletes in Redis the older copies of keys written locally only during an
// outage. It must never delete a write made after recovery.

let server: RedisServer | undefined;
let cache: CacheClient | undefined;
let t: TestRegistry;

afterEach(async () => {
  await cache?.close();
  if (server?.running) await server.kill();
  cache = undefined;
  server = undefined;
});

describe('reconciliation after an outage', () => {
  it('never deletes a key written again once Redis is back, even with that SET still in flight', async () => {
    t = cacheRegistry();
    server = await startRedis();
    // Every rewrite below is admitted as a trial call, so it goes to Redis, not to the local tier.
    const client = createCacheClient({
      url: server.url,
      registry: t.registry,
      keyPrefix: 'reconcile:',
      connection: { reconnectMaxDelayMs: 100 },
      breaker: { halfOpenMaxCalls: 1_000 },
    });
    cache = client;
    await waitFor(() => client.status().connected, 'the first connection');
    const keys = Array.from({ length: 250 }, (_, i) => `k${i}`);

    await server.kill(); // SIGKILL: the crash
    await waitFor(() => !client.status().connected, 'the client to see the connection drop');
    for (const key of keys) expect(await client.set(key, 'during the outage', 60_000)).toBe('local');
    expect(client.status().unsyncedKeys).toBe(250);

    // The moment the new connection ends the open period, before the reconciliation starts:
    // every key is written again, so each SET is on the wire (in flight) ahead of any DEL.
    const rewrites: Array<Promise<CacheWriteTier>> = [];
    t.registry.get('cache.redis')!.onStateChange((change) => {
      if (change.to !== 'half_open' || rewrites.length > 0) return;
      for (const key of keys) rewrites.push(client.set(key, 'after recovery', 60_000));
    });
    await server.restart(); // same port, data gone
    await waitFor(() => rewrites.length > 0, 'the recovery');
    expect(new Set(await Promise.all(rewrites))).toEqual(new Set(['redis']));
    await waitFor(() => client.status().unsyncedKeys === 0, 'the reconciliation');

    const expected = { value: 'after recovery', source: 'live', tier: 'redis' };
    expect(await client.mget(keys)).toEqual(keys.map(() => expected));
    const raw = await rawRedis(server.url);
    try {
      expect(await raw.mGet(keys.map((key) => `reconcile:${key}`))).toEqual(keys.map(() => '"after recovery"'));
    } finally {
      raw.destroy();
    }
  });
});

describe('UnsyncedKeys', () => {
  it('offers for deletion only keys whose local-only write is still the last one, with no write to Redis in flight', () => {
    const unsynced = new UnsyncedKeys(10);
    for (const key of ['a', 'b', 'c', 'd']) unsynced.track(key);
    const run = unsynced.snapshot();
    unsynced.writing('a'); // a SET of `a` is on the wire
    unsynced.settled('b', unsynced.writing('b'), true); // `b` reached Redis since the snapshot
    unsynced.track('c'); // `c` written locally again since the snapshot: its DEL waits for the next run
    expect(unsynced.deletable(run)).toEqual(['d']);
  });

  it('keeps a key written locally while its DEL was in flight', () => {
    const unsynced = new UnsyncedKeys(10);
    unsynced.track('a');
    unsynced.track('b');
    const run = unsynced.snapshot();
    const batch = unsynced.deletable(run);
    unsynced.track('b');
    unsynced.deleted(batch, run);
    expect([unsynced.has('a'), unsynced.has('b')]).toEqual([false, true]);
  });

  it('a failed write to Redis does not untrack its key, and the bound refuses new keys only', () => {
    const unsynced = new UnsyncedKeys(1);
    expect(unsynced.track('a')).toBe(true);
    unsynced.settled('a', unsynced.writing('a'), false);
    expect(unsynced.has('a')).toBe(true);
    expect(unsynced.track('b')).toBe(false);
    expect(unsynced.track('a')).toBe(true);
  });
});
