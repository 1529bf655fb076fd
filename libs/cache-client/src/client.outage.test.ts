import { type StateChange, TimeoutError } from '@gl-vcci/breaker-core';
import { capturingLogger } from '@gl-vcci/breaker-core/testing';
import { type RedisServer, startRedis } from '@gl-vcci/upstreams/redis-server';
import { freePort } from '@gl-vcci/upstreams/servers';
import { afterEach, describe, expect, it } from 'vitest';
import {
  breakerCalls,
  CALL_TIMEOUT_MS,
  isSettled,
  OPEN_DURATION_MS,
  sampleValue,
  type TestRegistry,
  testRegistry,
  waitFor,
} from '../test/support.js';
import { createCacheClient } from './client.js';
import { CONNECTION_ERRORS_METRIC } from './metrics.js';
import type { CacheClient, CacheClientOptions } from './types.js';

// Outages on throwaway redis-server processes: the shared Redis is never touched. The breaker
// runs on a ManualClock, so a call that waited for its deadline would never settle unless the
// test moves the clock: "settled without moving the clock" means "did not wait for the deadline".

let server: RedisServer | undefined;
let cache: CacheClient | undefined;
let t: TestRegistry;

afterEach(async () => {
  await cache?.close();
  if (server?.running) await server.kill();
  cache = undefined;
  server = undefined;
});

function open(url: string, extra: Partial<CacheClientOptions> = {}): CacheClient {
  t ??= testRegistry();
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
  t = testRegistry();
  server = await startRedis();
  const client = open(server.url, extra);
  await waitFor('the first connection', () => client.status().connected);
  return client;
}

// Long enough that node-redis' own idle timer cannot end a hung call before the breaker does.
const NO_SOCKET_TIMEOUT = { connection: { socketTimeoutMs: 60_000, pingIntervalMs: 30_000 } };

describe('when Redis is killed', () => {
  it('get answers from the local tier without waiting for its deadline', async () => {
    const client = await connectedCache();
    await client.set('k', { v: 1 }, 60_000);
    await server!.kill();
    await waitFor('the client to see the connection drop', () => !client.status().connected);
    const pending = client.get('k');
    expect(await isSettled(pending)).toBe(true);
    expect(await pending).toEqual({ value: { v: 1 }, source: 'local' });
    expect(await breakerCalls(t.prom)).toMatchObject({ failure: 1, timeout: 0 });
  });

  it('a call in flight when it dies counts as a failure and answers from the local tier at once', async () => {
    const client = await connectedCache(NO_SOCKET_TIMEOUT);
    await client.set('k', 'kept', 60_000);
    await server!.pause();
    const inFlight = client.get('k');
    expect(await isSettled(inFlight)).toBe(false);
    await server!.kill();
    expect(await inFlight).toEqual({ value: 'kept', source: 'local' });
    expect(await breakerCalls(t.prom)).toMatchObject({ failure: 1, ignored: 0, timeout: 0 });
  });

  it('the circuit opens after fail_max failures and later calls answer locally without touching Redis', async () => {
    const client = await connectedCache();
    await server!.kill();
    await waitFor('the client to see the connection drop', () => !client.status().connected);
    expect(await client.get('a')).toBeUndefined();
    expect(await client.get('b')).toBeUndefined();
    expect(client.status().circuit).toBe('open');
    await client.set('c', 3, 60_000);
    expect(await client.get('c')).toEqual({ value: 3, source: 'local' });
    expect(await client.mget(['c', 'd'])).toEqual([{ value: 3, source: 'local' }, undefined]);
    expect(await breakerCalls(t.prom)).toMatchObject({ failure: 2, rejected: 3, timeout: 0 });
  });

  it('getOrSet runs the loader once for 1 000 concurrent misses, then answers from the local tier', async () => {
    const client = await connectedCache();
    await server!.kill();
    await waitFor('the client to see the connection drop', () => !client.status().connected);
    let calls = 0;
    const loader = async () => {
      calls++;
      return 'fresh';
    };
    const results = await Promise.all(Array.from({ length: 1_000 }, () => client.getOrSet('g', 60_000, loader)));
    expect(calls).toBe(1);
    expect(results.every((r) => r.value === 'fresh' && r.source === 'loader')).toBe(true);
    expect(await client.getOrSet('g', 60_000, loader)).toEqual({ value: 'fresh', source: 'local' });
    expect(calls).toBe(1);
  });

  it('it reconnects once Redis is back, and the first call after the open duration closes the circuit', async () => {
    const client = await connectedCache();
    await server!.kill();
    await waitFor('the client to see the connection drop', () => !client.status().connected);
    await client.get('a');
    await client.get('b');
    expect(client.status().circuit).toBe('open');
    await server!.restart();
    await waitFor('the client to reconnect', () => client.status().connected);
    t.clock.advance(OPEN_DURATION_MS);
    expect(client.status().circuit).toBe('half_open');
    await client.set('back', 'again', 60_000);
    expect(client.status().circuit).toBe('closed');
    expect(await client.get('back')).toEqual({ value: 'again', source: 'redis' });
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
    expect(await pending).toEqual({ value: 'kept', source: 'local' });
    expect(await breakerCalls(t.prom)).toMatchObject({ timeout: 1, failure: 0 });
    server!.resume();
  });

  it('getOrSet answers from its loader at the deadline, whether the read or the write hangs', async () => {
    const client = await connectedCache(NO_SOCKET_TIMEOUT);
    await server!.pause();
    const pending = client.getOrSet('g', 60_000, () => 'loaded');
    await t.clock.advanceAsync(CALL_TIMEOUT_MS); // the GET
    expect(await isSettled(pending)).toBe(false);
    await t.clock.advanceAsync(CALL_TIMEOUT_MS); // the SET
    expect(await pending).toEqual({ value: 'loaded', source: 'loader' });
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
    expect(await rejected).toEqual({ value: 'loader', source: 'loader' });
    expect(await breakerCalls(t.prom)).toMatchObject({ timeout: 2, rejected: 2 });
    server!.resume();
  });

  it('the socket timeout drops the hung connection, and it is replaced once Redis answers again', async () => {
    const client = await connectedCache({ connection: { socketTimeoutMs: 300, pingIntervalMs: 100 } });
    await server!.pause();
    await waitFor('the hung connection to be dropped', () => !client.status().connected);
    server!.resume();
    await waitFor('a new connection', () => client.status().connected);
    await client.set('k', 'v', 60_000);
    expect(await client.get('k')).toEqual({ value: 'v', source: 'redis' });
  });
});

describe('when Redis is down at start', () => {
  it('the client starts in fallback and connects by itself once Redis starts', async () => {
    t = testRegistry();
    const port = await freePort();
    const client = open(`redis://127.0.0.1:${port}`);
    expect(await client.get('k')).toBeUndefined();
    await client.set('k', 'local', 60_000);
    expect(await client.get('k')).toEqual({ value: 'local', source: 'local' });
    expect(await client.getOrSet('g', 60_000, () => 'loaded')).toEqual({ value: 'loaded', source: 'loader' });
    expect(client.status()).toMatchObject({ connected: false, circuit: 'open' });

    server = await startRedis({ port });
    await waitFor('the client to connect', () => client.status().connected);
    t.clock.advance(OPEN_DURATION_MS);
    await client.set('k', 'redis', 60_000);
    expect(await client.get('k')).toEqual({ value: 'redis', source: 'redis' });
    expect(client.status().circuit).toBe('closed');
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
      t = testRegistry(undefined, logger);
      server = await startRedis();
      const client = open(server.url);
      await waitFor('the first connection', () => client.status().connected);
      await server.kill();
      await waitFor('three failed reconnects', async () => (await sampleValue(t.prom, CONNECTION_ERRORS_METRIC)) >= 3);
      expect(uncaught).toEqual([]);
      const warnings = lines.filter((l) => l.msg === 'redis unavailable: serving from the local tier');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 40, client: 'cache', circuit: 'cache.redis' });
      await server.restart();
      await waitFor('the client to reconnect', () => client.status().connected);
      expect(lines.filter((l) => l.msg === 'redis connection recovered')).toHaveLength(1);
    } finally {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
    }
  });
});
