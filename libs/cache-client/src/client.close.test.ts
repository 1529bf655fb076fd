import { createHook } from 'node:async_hooks';
import { sampleValue, waitFor } from '@gl-vcci/breaker-core/testing';
import { freePort, sharedServer } from '@gl-vcci/upstreams/servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheRegistry, uniquePrefix } from '../test/support.js';
import { createCacheClient } from './client.js';
import { CONNECTION_ERRORS_METRIC } from './metrics.js';

const shared = await sharedServer('Redis', 'REDIS_URL', 'redis://127.0.0.1:6379');

// Timers and sockets made by node-redis or by this client (by the stack that made them), still alive.
const live = new Map<number, { type: string; stack: string }>();
const hook = createHook({
  init(id, type) {
    if (type !== 'Timeout' && type !== 'TCPWRAP') return;
    const stack = new Error().stack ?? '';
    if (/node_modules[\\/]@redis[\\/]|src[\\/](client|connection|cache)\.ts/.test(stack)) live.set(id, { type, stack });
  },
  destroy(id) {
    live.delete(id);
  },
});

const liveTypes = () => [...live.values()].map((r) => r.type);
const liveStacks = () => [...live.values()].map((r) => r.stack).join('\n\n');

/** Lets the event loop turn a few times: a destroyed socket's handle is released a turn or two later. */
async function loopTurns(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('close()', () => {
  let stackTraceLimit: number;
  beforeEach(() => {
    stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 50;
    live.clear();
    hook.enable();
  });
  afterEach(() => {
    hook.disable();
    Error.stackTraceLimit = stackTraceLimit;
  });

  it.skipIf(!shared.available)('releases every timer and socket the client made', async () => {
    const { registry } = cacheRegistry();
    const cache = createCacheClient({ url: shared.url, registry, keyPrefix: uniquePrefix() });
    await cache.set('a', 1, 1_000);
    await cache.get('a');
    await cache.del('a');
    expect(liveTypes()).toContain('TCPWRAP');
    await cache.close();
    await loopTurns();
    expect(liveTypes(), liveStacks()).toEqual([]);
  });

  it('during an outage, cancels the pending reconnect', async () => {
    const { registry, prom } = cacheRegistry();
    const cache = createCacheClient({
      url: `redis://127.0.0.1:${await freePort()}`,
      registry,
      connection: { reconnectMaxDelayMs: 60_000 },
    });
    await waitFor(async () => ((await sampleValue(prom, CONNECTION_ERRORS_METRIC)) ?? 0) >= 3, 'three failed connects');
    expect(liveTypes()).toContain('Timeout');
    await cache.close();
    await loopTurns();
    expect(liveTypes(), liveStacks()).toEqual([]);
  });
});
