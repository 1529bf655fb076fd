import { readFileSync } from 'node:fs';
import { testRegistry, waitFor } from '@gl-vcci/breaker-core/testing';
import { type RedisServer, startRedis } from '@gl-vcci/upstreams/redis-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createCacheClient } from './client.js';
import type { CacheClient } from './types.js';

// Issue 18: with the shipped config's cache.redis block (a 50 % rate over the last 200 calls, at
// least 50, fail_max .inf), a Redis restart of a fraction of a second must not open the circuit
// for timeout_duration: the few calls of the blip are served locally and Redis is used again as
// soon as the client reconnects. On a throwaway redis-server; the shared one is never touched.

const SHIPPED = readFileSync(new URL('../../../config/circuit_breaker_config.yaml', import.meta.url), 'utf8');

let server: RedisServer | undefined;
let cache: CacheClient | undefined;

afterEach(async () => {
  await cache?.close();
  if (server?.running) await server.kill();
});

describe('a short Redis restart under the shipped config', () => {
  it('is bridged by the local tier without opening the circuit, and Redis serves again once reconnected', async () => {
    const { registry } = testRegistry({ config: SHIPPED });
    server = await startRedis();
    const client = createCacheClient({
      url: server.url,
      registry,
      keyPrefix: 'blip:',
      connection: { reconnectMaxDelayMs: 50 },
    });
    cache = client;
    await waitFor(() => client.status().connected, 'the first connection');
    for (let i = 0; i < 60; i++) await client.set(`k${i}`, i, 60_000);

    await server.kill();
    await waitFor(() => !client.status().connected, 'the client to see the connection drop');
    // The calls of the blip: each fails over to the local tier (the restart takes ~0.1-0.3 s).
    const during = [];
    for (let i = 0; i < 20; i++) during.push(await client.get(`k${i}`));
    await server.restart();
    await waitFor(() => client.status().connected, 'the client to reconnect');

    expect(during.every((hit) => hit?.tier === 'local')).toBe(true);
    expect(client.status().circuits['cache.redis']).toBe('closed');
    await client.set('after', 'blip', 60_000);
    expect(await client.get('after')).toEqual({ value: 'blip', source: 'live', tier: 'redis' });
  });
});
