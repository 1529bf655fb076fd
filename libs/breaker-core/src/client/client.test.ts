import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CircuitOpenError, ConfigError, FallbackExhaustedError, isCircuitOpenError, TimeoutError } from '../errors.js';
import { capturingLogger, deferred, flushPromises, ManualClock, track } from '../testing.js';
import { collectIssues, type Issue, parseOrThrow } from '../validation.js';
import { raceAbort } from './abort.js';
import { closingController } from './closing.js';
import { detachCause } from './errors.js';
import { failover } from './failover.js';
import { httpStatusClass } from './http-status.js';
import { headersSchema, secretSchema, urlSchema } from './options.js';
import { SingleFlight } from './single-flight.js';
import { ClientCache, getWithin, LocalStore } from './store.js';

describe('raceAbort', () => {
  it('rejects with the signal’s reason as soon as it aborts, and runs onAbort once', async () => {
    const pending = deferred<number>();
    const controller = new AbortController();
    let released = 0;
    const raced = track(raceAbort(pending.promise, controller.signal, () => released++));
    controller.abort(new Error('caller gave up'));
    await Promise.resolve();
    expect(raced.status).toBe('rejected');
    expect((raced.error as Error).message).toBe('caller gave up');
    pending.reject(new Error('late'));
    expect(released).toBe(1);
  });

  it('passes the value through and leaves no listener behind', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 1000; i++) await raceAbort(Promise.resolve(i), controller.signal);
    expect(inspect(controller.signal)).not.toMatch(/abort.*listener/i);
    await expect(raceAbort(Promise.resolve(7), controller.signal)).resolves.toBe(7);
  });
});

describe('closingController', () => {
  it('lets every call in flight listen to the close signal without a listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const closing = closingController();
      for (let i = 0; i < 50; i++) closing.signal.addEventListener('abort', () => {});
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });
});

describe('SingleFlight', () => {
  it('gives concurrent callers of one key the same call, and starts a new one after it settles', async () => {
    const flight = new SingleFlight<number>();
    let calls = 0;
    const gate = deferred<number>();
    const call = () => {
      calls++;
      return gate.promise;
    };
    const a = flight.run('k', call);
    const b = flight.run('k', call);
    gate.resolve(1);
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    expect(calls).toBe(1);
    gate.resolve(2);
    await flight.run('k', call);
    expect(calls).toBe(2);
    expect(flight.size).toBe(0);
  });

  it('never keeps a failure', async () => {
    const flight = new SingleFlight<number>();
    await expect(flight.run('k', async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await expect(flight.run('k', async () => 3)).resolves.toBe(3);
  });
});

describe('LocalStore', () => {
  it('keeps each entry for its TTL on the given clock', async () => {
    const clock = new ManualClock(0);
    const store = new LocalStore<{ v: number }>({ maxEntries: 10, clock });
    await store.set('a', { v: 1 }, 1_000);
    clock.advance(999);
    expect(await store.get('a')).toEqual({ v: 1 });
    clock.advance(2);
    expect(await store.get('a')).toBeUndefined();
  });

  it('evicts the least recently used past maxEntries, and by size past maxBytes', () => {
    const clock = new ManualClock(0);
    const store = new LocalStore<string>({ maxEntries: 2, maxBytes: 10, sizeOf: (s) => s.length, clock });
    store.put('a', 'aaaa', 1_000);
    store.put('b', 'bbbb', 1_000);
    store.peek('a');
    store.put('c', 'cc', 1_000);
    expect([store.peek('a'), store.peek('b'), store.peek('c')]).toEqual(['aaaa', undefined, 'cc']);
    expect(store.put('big', 'x'.repeat(11), 1_000)).toBe(false);
    expect(store.bytes).toBeLessThanOrEqual(10);
  });

  it('caps every TTL at maxTtlMs and keeps nothing for a TTL of 0', () => {
    const clock = new ManualClock(0);
    const store = new LocalStore<string>({ maxEntries: 5, maxTtlMs: 100, clock });
    store.put('a', 'x', 10_000);
    expect(store.put('b', 'y', 0)).toBe(false);
    clock.advance(101);
    expect(store.peek('a')).toBeUndefined();
    expect(store.size).toBe(0);
  });
});

describe('httpStatusClass', () => {
  it('sorts statuses by the one rule every HTTP client follows', () => {
    const of = (status: number, retryAfter?: boolean) => httpStatusClass(status, retryAfter);
    expect([of(200), of(204), of(429), of(503, true), of(503), of(500), of(408)]).toEqual([
      'ok',
      'ok',
      'rate_limited',
      'rate_limited',
      'failure',
      'failure',
      'failure',
    ]);
    expect([of(401), of(403), of(400), of(404), of(422), of(302), of(101)]).toEqual([
      'failure',
      'failure',
      'request',
      'request',
      'request',
      'unexpected',
      'unexpected',
    ]);
  });
});

describe('collectIssues', () => {
  it('adds a ConfigError’s issues under a prefix and throws anything else on', () => {
    const issues: Issue[] = [];
    const bad = () => {
      throw new ConfigError('x', [{ path: 'failMax', message: 'expected a positive integer, got -1' }]);
    };
    expect(collectIssues(issues, bad, 'sources.epa.breaker.')).toBeUndefined();
    expect(collectIssues(issues, () => 7)).toBe(7);
    expect(issues).toEqual([{ path: 'sources.epa.breaker.failMax', message: 'expected a positive integer, got -1' }]);
    expect(() =>
      collectIssues(issues, () => {
        throw new TypeError('bug');
      }),
    ).toThrow('bug');
  });
});

describe('getWithin', () => {
  const hanging = { get: () => new Promise<undefined>(() => {}), set: async () => {} };

  it('gives up on a store that does not answer within the time, on the given clock', async () => {
    const clock = new ManualClock(0);
    const read = track(getWithin(hanging, 'k', { clock, timeoutMs: 250 }));
    clock.advance(249);
    await flushPromises();
    expect(read.status).toBe('pending');
    clock.advance(1);
    await flushPromises();
    expect(read.error).toBeInstanceOf(TimeoutError);
    expect(read.error).toMatchObject({ timeoutMs: 250, message: 'Call timed out after 250 ms' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops at the caller’s abort with its reason, and turns a synchronous throw into a rejection', async () => {
    const clock = new ManualClock(0);
    const controller = new AbortController();
    const read = getWithin(hanging, 'k', { clock, timeoutMs: 1_000, signal: controller.signal });
    controller.abort(new Error('caller left'));
    await expect(read).rejects.toThrow('caller left');
    const throwing = {
      get: () => {
        throw new Error('store bug');
      },
      set: async () => {},
    };
    await expect(getWithin(throwing, 'k', { clock, timeoutMs: 1_000 })).rejects.toThrow('store bug');
    const store = new LocalStore<number>({ maxEntries: 1, clock });
    store.put('k', 7, 1_000);
    await expect(getWithin(store, 'k', { clock, timeoutMs: 1_000 })).resolves.toBe(7);
  });
});

describe('ClientCache', () => {
  const hanging = { get: () => new Promise<undefined>(() => {}), set: () => new Promise<void>(() => {}) };

  it('reads a store that hangs or throws as a miss, logged at warn with its name; only the caller’s abort rejects', async () => {
    const clock = new ManualClock(0);
    const { logger, lines } = capturingLogger();
    const cache = new ClientCache(hanging, { clock, logger, readTimeoutMs: 250, name: 'factor cache' });
    const read = track(cache.read('k'));
    clock.advance(250);
    await flushPromises();
    expect(read).toMatchObject({ status: 'fulfilled', value: undefined });
    expect(lines.at(-1)).toMatchObject({ level: 40, msg: 'factor cache read failed: treated as a miss' });
    const throwing = new ClientCache(
      {
        get: () => {
          throw new Error('store bug');
        },
        set: async () => {},
      },
      { clock, logger, readTimeoutMs: 250, name: 'erp cache' },
    );
    await expect(throwing.read('k')).resolves.toBeUndefined();
    expect(lines.at(-1)).toMatchObject({
      msg: 'erp cache read failed: treated as a miss',
      error: { message: 'store bug' },
    });
    const controller = new AbortController();
    const aborted = cache.read('k', controller.signal);
    controller.abort(new Error('caller left'));
    await expect(aborted).rejects.toThrow('caller left');
  });

  it('starts a write and returns at once; a store that rejects or throws is logged, never thrown', async () => {
    const clock = new ManualClock(0);
    const { logger, lines } = capturingLogger();
    const options = { clock, logger, readTimeoutMs: 250, name: 'response cache' };
    expect(new ClientCache<number>(hanging, options).write('k', 1, 1_000)).toBeUndefined();
    const rejecting = { get: async () => undefined, set: () => Promise.reject(new Error('disk full')) };
    const throwing = {
      get: async () => undefined,
      set: () => {
        throw new Error('store bug');
      },
    };
    new ClientCache<number>(rejecting, options).write('k', 1, 1_000);
    new ClientCache<number>(throwing, options).write('k', 1, 1_000);
    await flushPromises();
    const logged = lines.map((l) => [l.msg, (l.error as { message: string }).message]);
    expect(logged.sort()).toEqual([
      ['response cache write failed', 'disk full'],
      ['response cache write failed', 'store bug'],
    ]);
  });
});

describe('failover', () => {
  it('answers from the primary as live, naming it', async () => {
    const result = await failover([
      { name: 'claude', run: () => 'a' },
      { name: 'openai', run: () => 'b' },
    ]);
    expect(result).toEqual({ value: 'a', source: 'live', upstream: 'claude' });
  });

  it('makes no signal for a primary that takes none; one that takes it gets one, the caller’s when given', async () => {
    const seen: unknown[] = [];
    const parameterless = function (this: unknown) {
      // biome-ignore lint/complexity/noArguments: the only way a length-0 function can see its argument
      seen.push(arguments[0]);
      return 'a';
    };
    await failover([{ name: 'p', run: parameterless }]);
    expect(seen[0]).toBeUndefined();
    await failover([{ name: 'p', run: (signal: AbortSignal) => seen.push(signal) }]);
    expect(seen[1]).toBeInstanceOf(AbortSignal);
    const caller = new AbortController();
    await failover([{ name: 'p', run: (signal: AbortSignal) => seen.push(signal) }], { signal: caller.signal });
    expect(seen[2]).toBe(caller.signal);
  });

  it('tries the in-between steps before the next upstream, and the last steps after all', async () => {
    const order: string[] = [];
    const visit =
      <T>(name: string, value: T) =>
      () => {
        order.push(name);
        return value;
      };
    const result = await failover(
      [
        { name: 'ecoinvent', run: visit('ecoinvent', undefined) },
        { name: 'desnz', run: visit('desnz', undefined) },
      ],
      {
        between: [{ source: 'cache', run: visit('cache', undefined) }],
        last: [{ source: 'default', run: visit('default', 42) }],
      },
    );
    expect(order).toEqual(['ecoinvent', 'cache', 'desnz', 'default']);
    expect(result).toEqual({ value: 42, source: 'default', upstream: undefined });
  });

  it('rejects naming every step and upstream when all fail', async () => {
    const error = await failover([
      { name: 'claude', run: () => Promise.reject(new Error('HTTP 503')) },
      { name: 'openai', run: () => undefined },
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FallbackExhaustedError);
    expect((error as Error).message).toBe(
      'Every fallback step failed: live claude (HTTP 503), failover openai (no value)',
    );
  });

  it('rethrows a caller’s mistake from the primary at once', async () => {
    let asked = false;
    const bad = new Error('HTTP 400');
    await expect(
      failover(
        [
          { name: 'claude', run: () => Promise.reject(bad) },
          {
            name: 'openai',
            run: () => {
              asked = true;
              return 'b';
            },
          },
        ],
        { stopOn: (e) => e === bad },
      ),
    ).rejects.toBe(bad);
    expect(asked).toBe(false);
  });
});

describe('detachCause', () => {
  it('keeps what an SDK error was and drops the request config, headers and response it carried', () => {
    const sdk = Object.assign(new Error('connect ECONNRESET'), {
      name: 'AxiosError',
      code: 'ECONNRESET',
      status: 502,
      config: { headers: { 'x-api-key': 'sk-SECRET-1' } },
      request: { _header: 'Authorization: Bearer sk-SECRET-2' },
      response: { headers: { 'set-cookie': 'sk-SECRET-3' }, data: 'x' },
      cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', options: { auth: 'sk-SECRET-4' } }),
    });
    const copy = detachCause(sdk) as Error & { code: string; status: number };
    const shown = inspect(copy, { depth: null });
    expect(shown).not.toMatch(/SECRET/);
    expect([copy.name, copy.message, copy.code, copy.status]).toEqual([
      'AxiosError',
      'connect ECONNRESET',
      'ECONNRESET',
      502,
    ]);
    expect((copy.cause as Error).message).toBe('socket hang up');
  });

  it('removes the client’s own secrets from the messages it copies, a Bearer credential alone too', () => {
    const sdk = new Error('401 {"error":"invalid x-api-key sk-ant-SECRET-9 (token sk-proj-TOKEN-7)"}', {
      cause: new Error('upstream said sk-ant-SECRET-9'),
    });
    const copy = detachCause(sdk, ['sk-ant-SECRET-9', 'Bearer sk-proj-TOKEN-7']) as Error;
    expect(copy.message).toBe('401 {"error":"invalid x-api-key [redacted] (token [redacted])"}');
    expect(inspect(copy, { depth: null })).not.toMatch(/SECRET|TOKEN/);
  });

  it('passes breaker-core’s own errors through unchanged', () => {
    const open = new CircuitOpenError('x', 'open', 10);
    expect(detachCause(open)).toBe(open);
  });
});

describe('code guards', () => {
  it('recognise an error from another copy of breaker-core, where instanceof does not', async () => {
    // A query gives a second instance of the module: two copies of breaker-core in one process.
    const second = '../errors.js?copy=2';
    const other = (await import(second)) as typeof import('../errors.js');
    const foreign = new other.CircuitOpenError('x', 'open', 1);
    expect(foreign instanceof CircuitOpenError).toBe(false);
    expect(isCircuitOpenError(foreign)).toBe(true);
    expect(isCircuitOpenError(new Error('x'))).toBe(false);
    expect(isCircuitOpenError(null)).toBe(false);
  });
});

describe('option schemas', () => {
  it('never echo a secret or a URL, and say what was wrong', () => {
    const schema = z.strictObject({ apiKey: secretSchema(), url: urlSchema(['redis:']) });
    const error = (() => {
      try {
        parseOrThrow(schema, { apiKey: 42, url: 'https://user:hunter2@cache' }, 'createX');
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.message).toBe(
      'createX: apiKey: expected a non-empty string, got <hidden>; url: expected a redis:// URL, got a https:// URL (not shown)',
    );
    expect(inspect(error, { depth: null })).not.toMatch(/hunter2|42/);
  });

  it('describe a misplaced object by its keys and a misplaced string by its type, never echoing either', () => {
    const schema = z.strictObject({
      sources: z.record(z.string(), z.unknown()).refine((v) => 'epa' in v, { error: 'expected an epa source' }),
      url: z.strictObject({ host: z.string() }),
    });
    const error = (() => {
      try {
        parseOrThrow(
          schema,
          { sources: { EPA: { headers: { 'x-api-key': 'sk-SECRET' } } }, url: 'redis://:pw@h' },
          'createX',
        );
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.message).toBe(
      'createX: sources: expected an epa source, got an object with keys "EPA"; url: Invalid input: expected object, received string, got a string (not shown)',
    );
  });

  it('refuse a header value with a line break, without echoing it', () => {
    const schema = z.strictObject({ headers: headersSchema });
    expect(() => parseOrThrow(schema, { headers: { 'x-api-key': 'sk-SECRET\r\n' } }, 'createX')).toThrow(
      'createX: headers.x-api-key: expected a header value without line breaks or control characters, got <hidden>',
    );
  });
});
