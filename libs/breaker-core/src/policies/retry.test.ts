import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircuitOpenError, ConfigError, TimeoutError } from '../errors.js';
import { ManualClock } from '../testing.js';
import { RetryBudget, RetryPolicy } from './retry.js';

/** A ManualClock that also records every delay asked of it. */
class RecordingClock extends ManualClock {
  readonly delays: number[] = [];
  override setTimeout(callback: () => void, ms: number): unknown {
    this.delays.push(ms);
    return super.setTimeout(callback, ms);
  }
}

/** Moves time by `ms`, running every timer the policy schedules on the way, and returns the outcome. */
async function settle<T>(clock: ManualClock, promise: Promise<T>, ms = 1e12) {
  const outcome = promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  await clock.advanceAsync(ms);
  return outcome;
}

/** A function failing with the given errors in turn, then resolving with 'ok'; counts its attempts. */
function failing(...errors: unknown[]) {
  const fn = (_signal: AbortSignal, attempt: number) => {
    fn.attempts.push(attempt);
    const error = errors[attempt - 1];
    return error === undefined ? Promise.resolve('ok') : Promise.reject(error);
  };
  fn.attempts = [] as number[];
  return fn;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status}`);
  }
}

describe('RetryPolicy options', () => {
  it.each([
    [{ maxAttempts: 0 }, 'maxAttempts: expected a positive integer, got 0'],
    [{ maxAttempts: 1.5 }, 'maxAttempts: expected a positive integer, got 1.5'],
    [{ baseDelayMs: -1 }, 'baseDelayMs: expected a non-negative number, got -1'],
    [{ maxDelayMs: Number.NaN }, 'maxDelayMs: expected a non-negative number'],
    [{ shouldRetry: true }, 'shouldRetry: expected a function, got true'],
    [{ budget: { ratio: 1 } }, 'budget: expected a RetryBudget'],
    [{ random: 0.5 }, 'random: expected a function, got 0.5'],
    [{ clock: Date }, 'clock: expected a Clock'],
    [{ maxAttempt: 3 }, 'maxAttempt'],
  ])('rejects %j with a ConfigError naming the field', (options, message) => {
    const make = () => new RetryPolicy(options as never);
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(message);
  });

  it('defaults to 3 attempts, 100 ms base delay and 10 s cap', () => {
    expect(new RetryPolicy()).toMatchObject({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 10_000 });
  });
});

describe('RetryPolicy.execute', () => {
  it('returns the first success without retrying', async () => {
    const clock = new ManualClock();
    const fn = failing();
    await expect(new RetryPolicy({ clock }).execute(fn)).resolves.toBe('ok');
    expect(fn.attempts).toEqual([1]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('retries a failing call until it succeeds, numbering the attempts from 1', async () => {
    const clock = new ManualClock();
    const fn = failing(new Error('a'), new Error('b'));
    const outcome = await settle(clock, new RetryPolicy({ maxAttempts: 3, clock }).execute(fn));
    expect(outcome).toEqual({ ok: true, value: 'ok' });
    expect(fn.attempts).toEqual([1, 2, 3]);
  });

  it('retries an error thrown synchronously', async () => {
    const clock = new ManualClock();
    let attempts = 0;
    const fn = () => {
      if (++attempts === 1) throw new Error('sync');
      return 'ok';
    };
    expect(await settle(clock, new RetryPolicy({ clock }).execute(fn))).toEqual({ ok: true, value: 'ok' });
    expect(attempts).toBe(2);
  });

  it('gives up after maxAttempts by rethrowing the last error unchanged', async () => {
    const clock = new ManualClock();
    const last = new HttpError(503);
    const fn = failing(new Error('first'), new Error('second'), last, new Error('never'));
    const outcome = await settle(clock, new RetryPolicy({ maxAttempts: 3, clock }).execute(fn));
    expect(outcome).toEqual({ ok: false, error: last });
    expect(fn.attempts).toEqual([1, 2, 3]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('makes a single attempt when maxAttempts is 1', async () => {
    const clock = new ManualClock();
    const fn = failing(new Error('once'));
    const outcome = await settle(clock, new RetryPolicy({ maxAttempts: 1, clock }).execute(fn));
    expect(outcome.ok).toBe(false);
    expect(fn.attempts).toEqual([1]);
  });

  it('waits random() × min(maxDelayMs, baseDelayMs × 2^(attempt−1)) before each retry (full jitter)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 7, maxLength: 7 }),
        async (maxAttempts, baseDelayMs, maxDelayMs, draws) => {
          const clock = new RecordingClock();
          let draw = 0;
          const random = () => draws[draw++]!;
          const policy = new RetryPolicy({ maxAttempts, baseDelayMs, maxDelayMs, clock, random });
          await settle(clock, policy.execute(failing(...Array.from({ length: 8 }, () => new Error('x')))));
          const expected = draws
            .slice(0, maxAttempts - 1)
            .map((r, i) => r * Math.min(maxDelayMs, baseDelayMs * 2 ** i));
          expect(clock.delays).toEqual(expected);
          for (const [i, delay] of clock.delays.entries()) {
            expect(delay).toBeGreaterThanOrEqual(0);
            expect(delay).toBeLessThanOrEqual(Math.min(maxDelayMs, baseDelayMs * 2 ** i));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('caps the backoff at maxDelayMs', async () => {
    const clock = new RecordingClock();
    const policy = new RetryPolicy({ maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 500, clock, random: () => 0.999 });
    await settle(clock, policy.execute(failing(...Array.from({ length: 6 }, () => new Error('x')))));
    expect(clock.delays.map(Math.round)).toEqual([100, 200, 400, 500, 500]);
  });

  it('waits at least the retryAfterMs carried by the error (Retry-After)', async () => {
    const clock = new RecordingClock();
    const policy = new RetryPolicy({ baseDelayMs: 100, clock, random: () => 0.5 });
    const outcome = await settle(clock, policy.execute(failing(new HttpError(429, 5000))));
    expect(outcome).toEqual({ ok: true, value: 'ok' });
    expect(clock.delays).toEqual([5000]);
  });

  it('keeps the jittered delay when it is longer than retryAfterMs', async () => {
    const clock = new RecordingClock();
    const policy = new RetryPolicy({ baseDelayMs: 1000, clock, random: () => 0.5 });
    await settle(clock, policy.execute(failing(new HttpError(503, 10))));
    expect(clock.delays).toEqual([500]);
  });

  it('ignores a retryAfterMs that is not a finite number', async () => {
    const clock = new RecordingClock();
    const policy = new RetryPolicy({ baseDelayMs: 100, clock, random: () => 0.5 });
    const error = Object.assign(new Error('odd'), { retryAfterMs: '5000' });
    await settle(clock, policy.execute(failing(error, new HttpError(503, Number.POSITIVE_INFINITY))));
    expect(clock.delays).toEqual([50, 100]);
  });

  it('never retries a CircuitOpenError, whatever shouldRetry says', async () => {
    const clock = new ManualClock();
    const rejection = new CircuitOpenError('factor_broker.ecoinvent', 'open', 1000);
    const fn = failing(rejection);
    const policy = new RetryPolicy({ clock, shouldRetry: () => true });
    expect(await settle(clock, policy.execute(fn))).toEqual({ ok: false, error: rejection });
    expect(fn.attempts).toEqual([1]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not retry when shouldRetry says no, and asks it with the error and the attempt number', async () => {
    const clock = new ManualClock();
    const asked: Array<[unknown, number]> = [];
    const badRequest = new HttpError(400);
    const policy = new RetryPolicy({
      clock,
      shouldRetry: (error, attempt) => {
        asked.push([error, attempt]);
        return !(error instanceof HttpError && error.status < 500);
      },
    });
    const fn = failing(new HttpError(503), badRequest);
    expect(await settle(clock, policy.execute(fn))).toEqual({ ok: false, error: badRequest });
    expect(fn.attempts).toEqual([1, 2]);
    expect(asked).toEqual([
      [expect.any(HttpError), 1],
      [badRequest, 2],
    ]);
  });

  it('gives up at once, rethrowing the last error, when the next wait would end at the deadline', async () => {
    const clock = new ManualClock(1000);
    const last = new TimeoutError(undefined, 50);
    const fn = failing(last);
    const policy = new RetryPolicy({ baseDelayMs: 200, clock, random: () => 0.5 });
    const outcome = await settle(clock, policy.execute(fn, { deadline: 1100 }), 0);
    expect(outcome).toEqual({ ok: false, error: last });
    expect(fn.attempts).toEqual([1]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('gives up at once when a Retry-After wait would end after the deadline', async () => {
    const clock = new RecordingClock();
    const fn = failing(new HttpError(429, 60_000));
    const outcome = await settle(clock, new RetryPolicy({ clock }).execute(fn, { deadline: 30_000 }), 0);
    expect(outcome.ok).toBe(false);
    expect(fn.attempts).toEqual([1]);
    expect(clock.delays).toEqual([]);
  });

  it('retries when the wait ends before the deadline', async () => {
    const clock = new ManualClock(1000);
    const fn = failing(new Error('x'));
    const policy = new RetryPolicy({ baseDelayMs: 200, clock, random: () => 0.5 });
    expect(await settle(clock, policy.execute(fn, { deadline: 1101 }))).toEqual({ ok: true, value: 'ok' });
  });

  it('passes the caller’s signal to every attempt', async () => {
    const clock = new ManualClock();
    const caller = new AbortController();
    const seen: AbortSignal[] = [];
    const fn = (signal: AbortSignal, attempt: number) => {
      seen.push(signal);
      return attempt < 2 ? Promise.reject(new Error('x')) : 'ok';
    };
    await settle(clock, new RetryPolicy({ clock }).execute(fn, { signal: caller.signal }));
    expect(seen).toEqual([caller.signal, caller.signal]);
  });

  it('cuts a backoff wait short when the caller aborts, rejecting with its reason and clearing the timer', async () => {
    const clock = new ManualClock();
    const caller = new AbortController();
    const fn = failing(new Error('x'), new Error('y'));
    const policy = new RetryPolicy({ baseDelayMs: 1000, clock, random: () => 1 });
    const result = policy.execute(fn, { signal: caller.signal });
    await clock.advanceAsync(10);
    expect(clock.pendingTimers).toBe(1);
    const reason = new Error('shutting down');
    caller.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(fn.attempts).toEqual([1]);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('does not retry an attempt that fails after the caller aborted, rejecting with the caller’s reason', async () => {
    const clock = new ManualClock();
    const caller = new AbortController();
    const fn = (_signal: AbortSignal, attempt: number) => {
      caller.abort('gone');
      return Promise.reject(new Error(`attempt ${attempt}`));
    };
    expect(await settle(clock, new RetryPolicy({ clock }).execute(fn, { signal: caller.signal }))).toEqual({
      ok: false,
      error: 'gone',
    });
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with the reason of an already-aborted caller signal without calling the function', async () => {
    const caller = new AbortController();
    caller.abort('cancelled');
    const fn = failing();
    await expect(new RetryPolicy().execute(fn, { signal: caller.signal })).rejects.toBe('cancelled');
    expect(fn.attempts).toEqual([]);
  });

  it('leaves no abort listener on the caller signal after retrying', async () => {
    const clock = new ManualClock();
    const caller = new AbortController();
    await settle(clock, new RetryPolicy({ clock }).execute(failing(new Error('x')), { signal: caller.signal }));
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('rethrows the last error once the retry budget refuses a retry', async () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, windowMs: 1000, clock });
    const policy = new RetryPolicy({ maxAttempts: 5, budget, clock, random: () => 0 });
    const first = failing(new Error('a1'), new Error('a2'), new Error('a3'));
    const second = failing(new Error('b1'));
    const firstOutcome = await settle(clock, policy.execute(first), 0);
    const secondOutcome = await settle(clock, policy.execute(second), 0);
    expect(firstOutcome).toEqual({ ok: false, error: new Error('a2') });
    expect(first.attempts).toEqual([1, 2]);
    expect(secondOutcome).toEqual({ ok: false, error: new Error('b1') });
    expect(second.attempts).toEqual([1]);
  });

  it('counts each first attempt as a call against the budget, so traffic earns retries', async () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, clock });
    const policy = new RetryPolicy({ maxAttempts: 2, budget, clock, random: () => 0 });
    const first = failing(new Error('x'));
    await settle(clock, policy.execute(first), 0);
    expect(first.attempts).toEqual([1]);
    const second = failing(new Error('x'));
    expect(await settle(clock, policy.execute(second), 0)).toEqual({ ok: true, value: 'ok' });
    expect(second.attempts).toEqual([1, 2]);
  });

  it('does not spend the budget on a retry it would not make', async () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, windowMs: 1000, clock });
    const policy = new RetryPolicy({ budget, clock, random: () => 0, shouldRetry: () => false });
    await settle(clock, policy.execute(failing(new Error('x'))), 0);
    expect(budget.tryAcquireRetry()).toBe(true);
  });
});

describe('RetryBudget', () => {
  it.each([
    [{ ratio: -0.1 }, 'ratio: expected a non-negative number, got -0.1'],
    [{ minRetriesPerSecond: -1 }, 'minRetriesPerSecond: expected a non-negative number, got -1'],
    [{ windowMs: 0 }, 'windowMs: expected a positive integer (milliseconds), got 0'],
    [{ window: 1000 }, 'window'],
  ])('rejects %j with a ConfigError naming the field', (options, message) => {
    const make = () => new RetryBudget(options as never);
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(message);
  });

  it('defaults to 20 % of calls, 10 retries per second and a 10 s window', () => {
    expect(new RetryBudget()).toMatchObject({ ratio: 0.2, minRetriesPerSecond: 10, windowMs: 10_000 });
  });

  it('allows minRetriesPerSecond × window seconds retries with no traffic at all', () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 2, windowMs: 5000, clock: new ManualClock() });
    const granted = Array.from({ length: 20 }, () => budget.tryAcquireRetry()).filter(Boolean).length;
    expect(granted).toBe(10);
  });

  it('allows ratio × calls retries on top of the reserve', () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0, clock: new ManualClock() });
    for (let i = 0; i < 100; i++) budget.recordCall();
    const granted = Array.from({ length: 50 }, () => budget.tryAcquireRetry()).filter(Boolean).length;
    expect(granted).toBe(20);
  });

  it('grants the whole ratio despite floating-point rounding', () => {
    const budget = new RetryBudget({ ratio: 0.29, minRetriesPerSecond: 0, clock: new ManualClock() });
    for (let i = 0; i < 100; i++) budget.recordCall();
    const granted = Array.from({ length: 50 }, () => budget.tryAcquireRetry()).filter(Boolean).length;
    expect(granted).toBe(29);
  });

  it('forgets calls and retries once they slide out of the window', () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, windowMs: 3000, clock });
    budget.recordCall();
    budget.recordCall();
    expect(budget.tryAcquireRetry()).toBe(true);
    expect(budget.tryAcquireRetry()).toBe(false);
    clock.advance(2999);
    expect(budget.tryAcquireRetry()).toBe(false);
    clock.advance(1);
    // The first second's calls have left the window: no traffic, no reserve, no retry.
    expect(budget.tryAcquireRetry()).toBe(false);
    budget.recordCall();
    budget.recordCall();
    // And so has its retry, or this one would be refused.
    expect(budget.tryAcquireRetry()).toBe(true);
  });

  it('never grants more than reserve + ratio × calls within one window', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.constantFrom('call', 'retry'), { maxLength: 300 }),
        (ratio, minRetriesPerSecond, ops) => {
          const budget = new RetryBudget({ ratio, minRetriesPerSecond, windowMs: 2000, clock: new ManualClock() });
          let calls = 0;
          let granted = 0;
          for (const op of ops) {
            if (op === 'call') {
              budget.recordCall();
              calls++;
            } else if (budget.tryAcquireRetry()) {
              granted++;
              expect(granted).toBeLessThanOrEqual(minRetriesPerSecond * 2 + ratio * calls + 1e-6);
            }
          }
        },
      ),
    );
  });
});
