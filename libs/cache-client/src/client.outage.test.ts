import { type StateChange, TimeoutError } from '@gl-vcci/breaker-core';
import { capturingLogger, sampleValue, type TestRegistry, waitFor } from '@gl-vcci/breaker-core/testing';
import { type RedisServer, startRedis } from '@gl-vcci/upstreams/redis-server';
import { freePort } from '@gl-vcci/upstreams/servers';
import { startTcpProxy, type TcpProxy } from '@gl-vcci/upstreams/tcp-proxy';
import { afterEach, describe, expect, it } from 'vitest';
import {
  breakerCalls,
  CALL_TIMEOUT_MS,
  cacheRegistry,
  isSettled,
  OPEN_DURATION_MS,
  rawRedis,
} from '../test/support.js';
import { createCacheClient } from './client.js';
import { CONNECTION_ERRORS_METRIC, UNSYNCED_DROPPED_METRIC } from './metrics.js';
import type { CacheClient, CacheClientOptions } from './types.js';

// Outages on throwaway redis-server processes: the shared Redis is never touched. The breaker
// runs on a ManualClock, so a call that waited for its deadline would never settle unless the
// test moves the clock: "settled without moving the clock" means "did not wait for the deadline".

let server: RedisServer | undefined;
let cache: CacheClient | undefined;
let proxy: TcpProxy | undefined;
let t: TestRegistry;

afterEach(async () => {
  await cache?.close();
  await proxy?.close();
  proxy = undefined;
  if (server?.running) await server.kill();
  cache = undefined;
  server = undefined;
});

function open(url: string, extra: Partial<CacheClientOptions> = {}): CacheClient {
  t ??= cacheRegistry();
  cache = createCacheClient({
    url,
    registry: t.registry,
    keyPrefix: 'outage:',
    ...extra,
    connection: { reconnectMaxDelayMs: 100, ...extra.connection },
  });
  return cache;
}

async function connectedCache(extra: Partial<CacheClientOptions> = {}): Promise<CacheClient> {
  t = cacheRegistry();
  server = await startRedis();
  const client = open(server.url, extra);
  await waitFor(() => client.status().connected, 'the first connection');
  return client;
}

// Long enough that node-redis' own idle timer cannot end a hung call before the breaker does.
const NO_SOCKET_TIMEOUT = { connection: { socketTimeoutMs: 60_000, pingIntervalMs: 30_000 } };

describe('when Redis is killed', () => {
  it('get answers from the local tier without waiting for its deadline', async () => {
    const client = await connectedCache();
    await client.set('k', { v: 1 }, 60_000);
    await server!.kill();
    await waitFor(() => !client.status().connected, 'the client to see the connection drop');
    const pending = client.get('k');
    expect(await isSettled(pending)).toBe(true);
    expect(await pending).toEqual({ value: { v: 1 }, source: 'stale', tier: 'local' });
    expect(await breakerCalls(t.prom)).toMatchObject({ failure: 1, timeout: 0 });
  });

  it('a call in flight when it dies counts as a failure and answers from the local tier at once', async () => {
    const client = await connectedCache(NO_SOCKET_TIMEOUT);
    await client.set('k', 'kept', 60_000);
    await server!.pause();
    const inFlight = client.get('k');
    expect(await isSettled(inFlight)).toBe(false);
    await server!.kill();
    expect(await inFlight).toEqual({ value: 'kept', source: 'stale', tier: 'local' });
    expect(await breakerCalls(t.prom)).toMatchObject({ failure: 1, ignored: 0, timeout: 0 });
  });

  it('the circuit opens after fail_max failures and later calls answer locally without touching Redis', async () => {
    const client = await connectedCache();
    await server!.kill();
    await waitFor(() => !client.status().connected, 'the client to see the connection drop');
    expect(await client.get('a')).toBeUndefined();
    expect(await client.get('b')).toBeUndefined();
    expect(client.status().circuits['cache.redis']).toBe('open');
    await client.set('c', 3, 60_000);
    expect(await client.get('c')).toEqual({ value: 3, source: 'stale', tier: 'local' });
    expect(await client.mget(['c', 'd'])).toEqual([{ value: 3, source: 'stale', tier: 'local' }, undefined]);
    expect(await breakerCalls(t.prom)).toMatchObject({ failure: 2, rejected: 3, timeout: 0 });
  });

  it('getOrSet runs the loader once for 1 000 concurrent misses, then answers from the local tier', async () => {
    const client = await connectedCache();
    await server!.kill();
    await waitFor(() => !client.status().connected, 'the client to see the connection drop');
    let calls = 0;
    const loader = async () => {
      calls++;
      return 'fresh';
    };
    const results = await Promise.all(Array.from({ length: 1_000 }, () => client.getOrSet('g', 60_000, loader)));
    expect(calls).toBe(1);
    expect(results.every((r) => r.value === 'fresh' && r.tier === 'loader')).toBe(true);
    expect(await client.getOrSet('g', 60_000, loader)).toEqual({ value: 'fresh', source: 'stale', tier: 'local' });
    expect(calls).toBe(1);
  });

  it('it reconnects once Redis is back, and the first call closes the circuit without waiting out the open duration', async () => {
    const client = await connectedCache();
    await server!.kill();
    await waitFor(() => !client.status().connected, 'the client to see the connection drop');
    await client.get('a');
    await client.get('b');
    expect(client.status().circuits['cache.redis']).toBe('open');
    await server!.restart();
    await waitFor(() => client.status().connected, 'the client to reconnect');
    expect(client.status().circuits['cache.redis']).toBe('half_open');
    await client.set('back', 'again', 60_000);
    expect(client.status().circuits['cache.redis']).toBe('closed');
    expect(await client.get('back')).toEqual({ value: 'again', source: 'live', tier: 'redis' });
  });
});

describe('when Redis hangs (SIGSTOP)', () => {
  it('a call settles at its deadline, counted as a timeout, with the local value', async () => {
    const client = await connectedCache(NO_SOCKET_TIMEOUT);
    await client.set('k', 'kept', 60_000);
    await server!.pause();
    const pending = client.get('k');
    await t.clock.advanceAsync(CALL_TIMEOUT_MS - 1);
    expect(await isSettled(pending)).toBe(false);
    await t.clock.advanceAsync(1);
    expect(await isSettled(pending)).toBe(true);
    expect(await pending).toEqual({ value: 'kept', source: 'stale', tier: 'local' });
    expect(await breakerCalls(t.prom)).toMatchObject({ timeout: 1, failure: 0 });
    server!.resume();
  });

  it("getOrSet answers from its loader at the read's deadline: the write runs in the background", async () => {
    const client = await connectedCache(NO_SOCKET_TIMEOUT);
    await server!.pause();
    const pending = client.getOrSet('g', 60_000, () => 'loaded');
    await t.clock.advanceAsync(CALL_TIMEOUT_MS - 1);
    expect(await isSettled(pending)).toBe(false);
    await t.clock.advanceAsync(1); // the GET's deadline, and no more
    expect(await isSettled(pending)).toBe(true);
    expect(await pending).toEqual({ value: 'loaded', source: 'live', tier: 'loader' });
    // The SET, still hanging, ends at its own deadline: the value stays local, its key tracked.
    expect(client.status().unsyncedKeys).toBe(0);
    await t.clock.advanceAsync(CALL_TIMEOUT_MS);
    expect(client.status().unsyncedKeys).toBe(1);
    expect(await breakerCalls(t.prom)).toMatchObject({ timeout: 2 });
    server!.resume();
  });

  it("after fail_max timeouts (the breaker's TimeoutError) the circuit opens and calls answer at once", async () => {
    const client = await connectedCache(NO_SOCKET_TIMEOUT);
    const changes: StateChange[] = [];
    t.registry.get('cache.redis')!.onStateChange((change) => changes.push(change));
    await server!.pause();
    for (const key of ['a', 'b']) {
      const pending = client.get(key);
      await t.clock.advanceAsync(CALL_TIMEOUT_MS);
      expect(await pending).toBeUndefined();
    }
    expect(changes).toMatchObject([{ from: 'closed', to: 'open', reason: 'failure_count' }]);
    expect(changes[0]!.lastError).toBeInstanceOf(TimeoutError);
    expect(changes[0]!.lastError).toMatchObject({ circuitName: 'cache.redis', timeoutMs: CALL_TIMEOUT_MS });
    const rejected = client.getOrSet('c', 60_000, () => 'loader');
    expect(await isSettled(rejected)).toBe(true);
    expect(await rejected).toEqual({ value: 'loader', source: 'live', tier: 'loader' });
    expect(await breakerCalls(t.prom)).toMatchObject({ timeout: 2, rejected: 2 });
    server!.resume();
  });

  it('a write still unwritten at its deadline (behind a jammed socket) is dropped: Redis never runs it late', async () => {
    const client = await connectedCache(NO_SOCKET_TIMEOUT);
    const raw = await rawRedis(server!.url);
    const setCalls = async () => Number(/cmdstat_set:calls=(\d+)/.exec(await raw.info('commandstats'))?.[1] ?? 0);
    try {
      await raw.set('outage:after', '"there"');
      const before = await setCalls();
      await server!.pause();
      // 32 MiB cannot fit the socket's buffers while Redis reads nothing: node-redis holds the next command back.
      const big = client.set('big', 'x'.repeat(32 * 1024 * 1024), 60_000);
      const late = client.set('late', 'stale', 60_000);
      await t.clock.advanceAsync(CALL_TIMEOUT_MS);
      expect(await big).toBe('local');
      expect(await late).toBe('local');
      server!.resume();
      await t.clock.advanceAsync(OPEN_DURATION_MS); // the two timeouts opened the circuit
      // Answered after everything written before it on that connection has run.
      await waitFor(async () => (await client.get('after'))?.tier === 'redis', 'Redis to answer the client again');
      expect(await setCalls()).toBe(before + 1); // the big SET, which was on the wire; never the late one
    } finally {
      server!.resume();
      await raw.quit();
    }
  });

  it('a write waiting for the first connection when its deadline passes is dropped: Redis never runs it', async () => {
    t = cacheRegistry();
    server = await startRedis();
    await server.pause(); // the first connection is accepted by the kernel and never answered
    const client = open(server.url, NO_SOCKET_TIMEOUT);
    const pending = client.set('boot', 'told local', 60_000);
    await t.clock.advanceAsync(CALL_TIMEOUT_MS);
    expect(await pending).toBe('local');
    server.resume();
    await waitFor(() => client.status().connected, 'the first connection');
    const raw = await rawRedis(server.url);
    try {
      // The connection is up and idle: anything it was given has been written by now.
      await client.get('after');
      expect(await raw.exists('outage:boot')).toBe(0);
    } finally {
      await raw.quit();
    }
  });

  it('the socket timeout drops the hung connection, and it is replaced once Redis answers again', async () => {
    const client = await connectedCache({ connection: { socketTimeoutMs: 300, pingIntervalMs: 100 } });
    await server!.pause();
    await waitFor(() => !client.status().connected, 'the hung connection to be dropped');
    server!.resume();
    await waitFor(() => client.status().connected, 'a new connection');
    await client.set('k', 'v', 60_000);
    expect(await client.get('k')).toEqual({ value: 'v', source: 'live', tier: 'redis' });
  });
});

describe('writes and deletes while Redis is unreachable', () => {
  it("resolve to 'local', and the older copies Redis kept are never served: deleted in Redis on recovery", async () => {
    t = cacheRegistry();
    server = await startRedis();
    // A partition: Redis keeps its data, only the client loses it.
    proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: server.port } });
    const client = open(`redis://127.0.0.1:${proxy.port}`);
    await waitFor(() => client.status().connected, 'the first connection');
    expect(await client.set('price', { v: 'OLD' }, 3_600_000)).toBe('redis');
    expect(await client.set('session', { user: 'alice' }, 3_600_000)).toBe('redis');

    await proxy.mode('cut');
    await waitFor(() => !client.status().connected, 'the client to see the connection drop');
    expect(await client.set('price', { v: 'NEW' }, 3_600_000)).toBe('local');
    expect(await client.del('session')).toBe('local');
    expect(client.status()).toMatchObject({ circuits: { 'cache.redis': 'open' }, unsyncedKeys: 2 });

    await proxy.mode('pass');
    await waitFor(() => client.status().connected, 'the client to reconnect');
    // The new connection ends the open period: the reconciliation runs at once, as the trial.
    await waitFor(() => client.status().unsyncedKeys === 0, 'the reconciliation');
    expect(client.status().circuits['cache.redis']).toBe('closed');
    await waitFor(() => client.status().unsyncedKeys === 0, 'the reconciliation');
    const raw = await rawRedis(server.url);
    try {
      expect(await raw.exists(['outage:price', 'outage:session'])).toBe(0);
    } finally {
      raw.destroy();
    }
    // Deleted in Redis: a miss, never OLD again; the next write goes to Redis.
    expect(await client.get('price')).toBeUndefined();
    expect(await client.set('price', { v: 'NEWER' }, 3_600_000)).toBe('redis');
    expect(await client.get('price')).toEqual({ value: { v: 'NEWER' }, source: 'live', tier: 'redis' });
  });

  it('are reconciled in batches when there are many', async () => {
    const client = await connectedCache();
    const keys = Array.from({ length: 250 }, (_, i) => `many:${i}`);
    for (const key of keys) await client.set(key, 'old', 60_000);
    await server!.pause();
    // Two timeouts open the circuit; the rest are refused at once.
    const writes = Promise.all(keys.map((key) => client.set(key, 'new', 60_000)));
    await t.clock.advanceAsync(CALL_TIMEOUT_MS);
    expect(new Set(await writes)).toEqual(new Set(['local']));
    expect(client.status().unsyncedKeys).toBe(250);
    server!.resume();
    t.clock.advance(OPEN_DURATION_MS);
    expect(await client.get('many:0')).toEqual({ value: 'new', source: 'stale', tier: 'local' });
    await waitFor(() => client.status().unsyncedKeys === 0, 'the reconciliation');
    const raw = await rawRedis(server!.url);
    try {
      expect(await raw.exists(keys.map((key) => `outage:${key}`))).toBe(0);
    } finally {
      raw.destroy();
    }
  });

  it('beyond local.maxEntries keys are counted and logged at warn once: their consistency is not guaranteed', async () => {
    const { logger, lines } = capturingLogger();
    t = cacheRegistry(undefined, logger);
    server = await startRedis();
    const client = open(server.url, { local: { maxEntries: 2 } });
    await waitFor(() => client.status().connected, 'the first connection');
    await server.kill();
    await waitFor(() => !client.status().connected, 'the client to see the connection drop');
    for (const key of ['a', 'b', 'c', 'd']) expect(await client.set(key, key, 60_000)).toBe('local');
    expect(await client.del('a')).toBe('local'); // already tracked: still fits
    expect(client.status().unsyncedKeys).toBe(2);
    expect(await sampleValue(t.prom, UNSYNCED_DROPPED_METRIC)).toBe(2);
    const warnings = lines.filter((l) => String(l.msg).startsWith('too many local-only writes to track'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, limit: 2 });
  });
});

describe('when Redis refuses writes (NOREPLICAS)', () => {
  it('writes land locally without tripping the circuit, reads are still served by Redis', async () => {
    const { logger, lines } = capturingLogger();
    t = cacheRegistry(undefined, logger);
    server = await startRedis();
    const client = open(server.url);
    await waitFor(() => client.status().connected, 'the first connection');
    expect(await client.set('kept', 'in redis', 60_000)).toBe('redis');
    const raw = await rawRedis(server.url);
    try {
      await raw.configSet('min-replicas-to-write', '1');
      for (const key of ['a', 'b', 'c']) expect(await client.set(key, key, 60_000)).toBe('local');
      expect(await client.del('kept')).toBe('local');
      expect(client.status()).toMatchObject({ circuits: { 'cache.redis': 'closed' }, unsyncedKeys: 4 });
      expect(await client.get('a')).toEqual({ value: 'a', source: 'stale', tier: 'local' });
      expect(await client.get('kept')).toBeUndefined(); // deleted here, though Redis still has it
      expect(await client.getOrSet('other', 60_000, () => 'loaded')).toEqual({
        value: 'loaded',
        source: 'live',
        tier: 'loader',
      });
      expect(await breakerCalls(t.prom)).toMatchObject({ failure: 0 });
      expect(lines.filter((l) => String(l.msg).startsWith('redis refuses writes'))).toHaveLength(1);

      await raw.configSet('min-replicas-to-write', '0');
      expect(await client.get('b')).toEqual({ value: 'b', source: 'stale', tier: 'local' });
      await waitFor(() => client.status().unsyncedKeys === 0, 'the reconciliation');
      expect(await raw.exists('outage:kept')).toBe(0);
    } finally {
      raw.destroy();
    }
  });
});

describe('when Redis is down at start', () => {
  it('the client starts in fallback and connects by itself once Redis starts', async () => {
    t = cacheRegistry();
    const port = await freePort();
    const client = open(`redis://127.0.0.1:${port}`);
    expect(await client.get('k')).toBeUndefined();
    await client.set('k', 'local', 60_000);
    expect(await client.get('k')).toEqual({ value: 'local', source: 'stale', tier: 'local' });
    expect(await client.getOrSet('g', 60_000, () => 'loaded')).toEqual({
      value: 'loaded',
      source: 'live',
      tier: 'loader',
    });
    expect(client.status()).toMatchObject({ connected: false, circuits: { 'cache.redis': 'open' } });

    server = await startRedis({ port });
    await waitFor(() => client.status().connected, 'the client to connect');
    // The first connection ends the open period; reconciling `k` is the trial that closes it.
    await waitFor(() => client.status().circuits['cache.redis'] === 'closed', 'the circuit to close');
    await client.set('k', 'redis', 60_000);
    expect(await client.get('k')).toEqual({ value: 'redis', source: 'live', tier: 'redis' });
    expect(client.status().circuits['cache.redis']).toBe('closed');
  });
});

describe('when the connection comes back while the circuit is open', () => {
  it('a burst at boot trips the circuit, and the new connection lets Redis be used at once, before the open duration ends', async () => {
    t = cacheRegistry();
    const port = await freePort();
    const client = open(`redis://127.0.0.1:${port}`);
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => client.get(`boot:${i}`)));
    expect(burst.every((hit) => hit === undefined)).toBe(true);
    expect(client.status().circuits['cache.redis']).toBe('open');

    server = await startRedis({ port });
    await waitFor(() => client.status().connected, 'the client to connect');
    // The clock never moves: the connection being ready is the evidence that Redis is back.
    expect(client.status().circuits['cache.redis']).toBe('half_open');
    expect(await client.set('k', 'in redis', 60_000)).toBe('redis');
    expect(client.status().circuits['cache.redis']).toBe('closed');
    expect(await client.get('k')).toEqual({ value: 'in redis', source: 'live', tier: 'redis' });
    expect(t.registry.get('cache.redis')!.snapshot().lastTransition).toMatchObject({ to: 'closed' });
  });
});

describe("the connection's 'error' events", () => {
  it('never escape as uncaught errors: they are counted, and logged at warn once per outage', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    try {
      const { logger, lines } = capturingLogger();
      t = cacheRegistry(undefined, logger);
      server = await startRedis();
      const client = open(server.url);
      await waitFor(() => client.status().connected, 'the first connection');
      await server.kill();
      await waitFor(
        async () => ((await sampleValue(t.prom, CONNECTION_ERRORS_METRIC)) ?? 0) >= 3,
        'three failed reconnects',
      );
      expect(uncaught).toEqual([]);
      const warnings = lines.filter((l) => l.msg === 'redis unavailable: serving from the local tier');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 40, client: 'cache', circuit: 'cache.redis' });
      await server.restart();
      await waitFor(() => client.status().connected, 'the client to reconnect');
      expect(lines.filter((l) => l.msg === 'redis connection recovered')).toHaveLength(1);
    } finally {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
    }
  });
});
