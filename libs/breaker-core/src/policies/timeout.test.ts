import { getEventListeners, setMaxListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ConfigError, TimeoutError } from '../errors.js';
import { deferred, flushPromises, ManualClock, track } from '../testing.js';
import { TimeoutPolicy } from './timeout.js';

/** Lets a test ask whether a promise has settled yet without awaiting it. */
describe('TimeoutPolicy options', () => {
  it.each([
    [{ timeoutMs: 0 }, 'timeoutMs: expected a positive number, got 0'],
    [{ timeoutMs: -5 }, 'timeoutMs: expected a positive number, got -5'],
    [{ timeoutMs: 2 ** 31 }, 'timeoutMs: expected at most 2147483647 ms'],
    [{ timeoutMs: 10, clock: {} }, 'clock: expected a Clock'],
    [{ timeoutMs: 10, timeout: 5 }, 'timeout'],
  ])('rejects %j with a ConfigError naming the field', (options, message) => {
    const make = () => new TimeoutPolicy(options as never);
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(message);
  });

  it('rejects a missing timeoutMs naming the field', () => {
    expect(() => new TimeoutPolicy({} as never)).toThrow(/TimeoutPolicy: timeoutMs: expected a positive number/);
  });
});

describe('TimeoutPolicy.execute', () => {
  it('resolves with the value of a call that settles before the deadline and leaves no timer', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 100, clock });
    const call = deferred<string>();
    const result = policy.execute(() => call.promise);
    clock.advance(99);
    call.resolve('ok');
    await expect(result).resolves.toBe('ok');
    expect(clock.pendingTimers).toBe(0);
  });

  it('resolves a synchronous value without arming a timer', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 100, clock });
    const result = policy.execute(() => 42);
    expect(clock.pendingTimers).toBe(0);
    await expect(result).resolves.toBe(42);
  });

  it('rejects with TimeoutError(undefined, timeoutMs) at the deadline even when the call ignores its signal', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 250, clock });
    const state = track(policy.execute(() => new Promise<never>(() => {})));
    clock.advance(249);
    await flushPromises();
    expect(state.status).toBe('pending');
    clock.advance(1);
    await flushPromises();
    expect(state.status).toBe('rejected');
    expect(state.error).toBeInstanceOf(TimeoutError);
    expect(state.error).toMatchObject({ circuitName: undefined, timeoutMs: 250, code: 'CALL_TIMEOUT' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('aborts the signal given to the call at the deadline, with the same TimeoutError as reason', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 50, clock });
    let seen: AbortSignal | undefined;
    const result = policy.execute((signal) => {
      seen = signal;
      return new Promise<never>(() => {});
    });
    expect(seen?.aborted).toBe(false);
    clock.advance(50);
    const error = await result.catch((e: unknown) => e);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
  });

  it('makes no signal for a function declared without parameters: it is cut off at the deadline, not told', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 50, clock });
    const seen: unknown[] = [];
    // A length-0 function that still reads its argument shows what it was given.
    const parameterless = function (this: unknown) {
      // biome-ignore lint/complexity/noArguments: the only way a length-0 function can see its argument
      seen.push(arguments[0]);
      return new Promise<never>(() => {});
    };
    const first = track(policy.execute(parameterless));
    const second = track(policy.execute(parameterless));
    clock.advance(50);
    await flushPromises();
    expect(first.error).toBeInstanceOf(TimeoutError);
    expect(second.error).toBeInstanceOf(TimeoutError);
    expect(seen[0]).toBe(seen[1]); // one shared signal, not one per call
    expect((seen[0] as AbortSignal).aborted).toBe(false);
    const caller = new AbortController();
    void policy.execute(parameterless, { signal: caller.signal }).catch(() => {});
    expect(seen[2]).toBe(caller.signal);
  });

  it('passes the call’s own rejection through unchanged and clears its timer', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 50, clock });
    const failure = new Error('upstream 503');
    await expect(policy.execute(() => Promise.reject(failure))).rejects.toBe(failure);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with an error thrown synchronously by the call', async () => {
    const policy = new TimeoutPolicy({ timeoutMs: 50, clock: new ManualClock() });
    const failure = new TypeError('bad input');
    await expect(
      policy.execute(() => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });

  it('rejects with the caller’s reason when the caller aborts, and aborts the call’s signal with it', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 1000, clock });
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    const result = policy.execute(
      (signal) => {
        seen = signal;
        return new Promise<never>(() => {});
      },
      { signal: caller.signal },
    );
    const reason = new Error('user went away');
    caller.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(seen?.reason).toBe(reason);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects at once with the reason of an already-aborted caller signal, without calling the function', async () => {
    const policy = new TimeoutPolicy({ timeoutMs: 1000, clock: new ManualClock() });
    const caller = new AbortController();
    caller.abort('cancelled');
    let calls = 0;
    await expect(policy.execute(() => ++calls, { signal: caller.signal })).rejects.toBe('cancelled');
    expect(calls).toBe(0);
  });

  it('rejects with the caller’s reason when the call itself aborts the caller’s signal synchronously', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 1000, clock });
    const caller = new AbortController();
    const result = policy.execute(
      () => {
        caller.abort('self-cancelled');
        // As an SDK does on abort: this rejection must still be handled (vitest fails on unhandled ones).
        return Promise.reject(new Error('aborted'));
      },
      { signal: caller.signal },
    );
    await expect(result).rejects.toBe('self-cancelled');
    expect(clock.pendingTimers).toBe(0);
  });

  it('ignores a late settlement of a call that already timed out', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 10, clock });
    const call = deferred<string>();
    const result = policy.execute(() => call.promise);
    clock.advance(10);
    await expect(result).rejects.toBeInstanceOf(TimeoutError);
    call.reject(new Error('too late'));
    await flushPromises();
    await expect(result).rejects.toBeInstanceOf(TimeoutError); // the late error changed nothing
    expect(clock.pendingTimers).toBe(0);
  });

  it('leaves no abort listener on a long-lived caller signal after 100 000 calls', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 1000, clock });
    const caller = new AbortController();
    // 100 calls are in flight at once, each listening while pending: lift Node's warn-at-10 limit,
    // as an application sharing one shutdown signal across concurrent calls would.
    setMaxListeners(0, caller.signal);
    let settled = 0;
    for (let batch = 0; batch < 1000; batch++) {
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 100; i++) {
        const n = batch * 100 + i;
        calls.push(
          policy.execute(() => (n % 2 === 0 ? Promise.resolve(n) : Promise.reject(new Error('no'))), {
            signal: caller.signal,
          }),
        );
      }
      settled += (await Promise.allSettled(calls)).length;
    }
    expect(settled).toBe(100_000);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('leaves no abort listener on the caller signal after a timeout', async () => {
    const clock = new ManualClock();
    const policy = new TimeoutPolicy({ timeoutMs: 10, clock });
    const caller = new AbortController();
    const result = policy.execute(() => new Promise<never>(() => {}), { signal: caller.signal });
    clock.advance(10);
    await expect(result).rejects.toBeInstanceOf(TimeoutError);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });
});
