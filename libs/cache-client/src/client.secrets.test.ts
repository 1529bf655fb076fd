import { inspect } from 'node:util';
import { capturingLogger, waitFor } from '@gl-vcci/breaker-core/testing';
import { type RedisServer, startRedis } from '@gl-vcci/upstreams/redis-server';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheRegistry, rawRedis } from '../test/support.js';
import { createCacheClient } from './client.js';
import type { CacheClient } from './types.js';

// A Redis URL carries its password: it must never reach a thrown error or a log line.

const PASSWORD = 's3cret-Pa55';
let server: RedisServer | undefined;
let cache: CacheClient | undefined;

afterEach(async () => {
  await cache?.close();
  if (server?.running) await server.kill();
  cache = undefined;
  server = undefined;
});

const shown = (error: unknown) => inspect(error, { depth: null });
const thrown = async (call: () => unknown): Promise<unknown> => {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
};

describe('the password in the Redis URL', () => {
  it('is never in an error thrown by a call or a log line, when Redis takes it and when it refuses it', async () => {
    const { logger, lines } = capturingLogger();
    const t = cacheRegistry(undefined, logger);
    server = await startRedis({ args: ['--requirepass', PASSWORD] });
    const url = `redis://:${PASSWORD}@127.0.0.1:${server.port}`;
    const client = createCacheClient({ url, registry: t.registry, keyPrefix: 'secrets:' });
    cache = client;
    await waitFor(() => client.status().connected, 'the first connection');
    const raw = await rawRedis(url);
    try {
      await raw.lPush('secrets:list', 'x');
    } finally {
      raw.destroy();
    }
    const errors = [
      await thrown(() => client.get('list')), // WRONGTYPE: CacheRequestError with node-redis' reply as cause
      await thrown(() => client.set('k', 10n, 1_000)), // CacheSerializationError
      await thrown(() => client.get('')), // CacheArgumentError
    ];
    await client.close();
    errors.push(await thrown(() => client.get('k'))); // CacheClosedError

    // The same password refused: WRONGPASS on every connection attempt.
    const refused = createCacheClient({
      url: `redis://:${PASSWORD}-old@127.0.0.1:${server.port}`,
      registry: cacheRegistry(undefined, logger).registry,
      connection: { reconnectMaxDelayMs: 50 },
    });
    cache = refused;
    await waitFor(() => lines.some((l) => String(l.msg).startsWith('credentials refused by redis')), 'WRONGPASS');
    expect(await refused.get('k')).toBeUndefined();

    expect(errors.map((e) => (e as { code: string }).code)).toEqual([
      'CACHE_REQUEST_REJECTED',
      'CACHE_VALUE_NOT_SERIALIZABLE',
      'CACHE_INVALID_ARGUMENT',
      'CACHE_CLOSED',
    ]);
    for (const error of errors) expect(shown(error)).not.toContain(PASSWORD);
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain(PASSWORD);
    // Credentials refused are the deployment's problem: at error level, naming Redis.
    expect(lines.find((l) => String(l.msg).startsWith('credentials refused'))).toMatchObject({
      level: 50,
      msg: 'credentials refused by redis (WRONGPASS): check the user and password of the URL',
    });
  });

  it('is never in an option error, whatever else is wrong with the options', () => {
    const { registry } = cacheRegistry();
    const attempts = [
      { url: `redis://:${PASSWORD}@127.0.0.1:6379`, registry, keyprefix: 'typo' },
      { url: `redis://:${PASSWORD}@127.0.0.1:6379`, registry, local: { maxEntries: 0 } },
      { url: `http://:${PASSWORD}@127.0.0.1:6379`, registry },
      { url: `redis://:${PASSWORD}@127.0.0.1:6379/not-a-db`, registry },
      { url: new URL(`redis://:${PASSWORD}@127.0.0.1:6379`), registry },
    ];
    for (const options of attempts) {
      const error = (() => {
        try {
          cache = createCacheClient(options as never);
        } catch (e) {
          return e;
        }
        throw new Error('expected a ConfigError');
      })();
      expect(error).toMatchObject({ code: 'INVALID_CONFIG' });
      expect(shown(error)).not.toContain(PASSWORD);
    }
  });
});

describe('errors in log lines', () => {
  it('are logged with their class name, message and code, never as type "Object"', async () => {
    const { logger, lines } = capturingLogger();
    const t = cacheRegistry(undefined, logger);
    server = await startRedis();
    const client = createCacheClient({ url: server.url, registry: t.registry });
    cache = client;
    await waitFor(() => client.status().connected, 'the first connection');
    await server.kill();
    await waitFor(() => lines.some((l) => l.msg === 'redis unavailable: serving from the local tier'), 'the warning');
    const warning = lines.find((l) => l.msg === 'redis unavailable: serving from the local tier')!;
    // Under `error`: breaker-core's logger would have pino's `err` serializer call it "Object".
    expect(warning.error ?? warning.err).toMatchObject({
      type: 'SocketClosedUnexpectedlyError',
      message: 'Socket closed unexpectedly',
    });
    await waitFor(() => lines.some((l) => l.msg === 'redis connection error'), 'a failed reconnect');
    const reconnect = lines.find((l) => l.msg === 'redis connection error')!;
    expect(reconnect.error ?? reconnect.err).toMatchObject({ type: 'Error', code: 'ECONNREFUSED' });
    expect(JSON.stringify(lines)).not.toContain('"type":"Object"');
  });
});
