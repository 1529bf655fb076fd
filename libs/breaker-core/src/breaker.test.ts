import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker.js';
import { BulkheadFullError, CircuitOpenError, ConfigError, TimeoutError } from './errors.js';
import type { BreakerConfig } from './options.js';
import { deferred, flushPromises, ManualClock } from './testing.js';
import type { StateChange } from './types.js';

const boom = () => Promise.reject(new Error('boom'));
const ok = () => Promise.resolve('ok');

function setup(config: Partial<BreakerConfig> = {}) {
  const clock = new ManualClock(1_000_000);
  const breaker = new CircuitBreaker({ name: 'svc', clock, ...config });
  const changes: StateChange[] = [];
  breaker.onStateChange((change) => changes.push(change));
  return { clock, breaker, changes };
}

async function fail(breaker: CircuitBreaker, times: number, error: unknown = new Error('boom')) {
  for (let i = 0; i < times; i++) await expect(breaker.execute(() => Promise.reject(error))).rejects.toBe(error);
}

describe('tripping', () => {
  it('opens on failMax failures in a count window, not one before', async () => {
    const { breaker, changes } = setup({ failMax: 3, slidingWindow: { kind: 'count', size: 10 } });
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([['closed', 'open', 'failure_count']]);
  });

  it('forgets failures that slid out of a count window', async () => {
    const { breaker } = setup({ failMax: 3, slidingWindow: { kind: 'count', size: 3 } });
    await fail(breaker, 2);
    await breaker.execute(ok);
    await fail(breaker, 2); // the success is still one of the last three calls
    expect(breaker.state).toBe('closed');
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('forgets failures older than a time window', async () => {
    const { breaker, clock } = setup({ failMax: 3, slidingWindow: { kind: 'time', seconds: 10 } });
    await fail(breaker, 2);
    clock.advance(10_000);
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().failuresInWindow).toBe(2);
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('opens on a failure rate at the threshold once minimumCalls are in the window', async () => {
    const { breaker, changes } = setup({ failMax: 100, failureRateThreshold: 50, minimumCalls: 10 });
    for (let i = 0; i < 4; i++) await breaker.execute(ok);
    await fail(breaker, 5);
    expect(breaker.state).toBe('closed'); // 5 of 9: not enough calls yet
    await breaker.execute(ok);
    expect(breaker.state).toBe('open'); // 5 of 10 = 50 %
    expect(changes[0]?.reason).toBe('failure_rate');
  });

  it('opens on a slow-call rate, slow successes included', async () => {
    const { breaker, clock, changes } = setup({
      slowCallDurationMs: 1_000,
      slowCallRateThreshold: 50,
      minimumCalls: 4,
    });
    const slowCall = () =>
      breaker.execute(async () => {
        const call = deferred<string>();
        clock.setTimeout(() => call.resolve('late'), 1_500);
        return call.promise;
      });
    await breaker.execute(ok);
    await breaker.execute(ok);
    const slow = [slowCall(), slowCall()];
    clock.advance(1_500);
    await Promise.all(slow);
    expect(breaker.state).toBe('open');
    expect(changes[0]?.reason).toBe('slow_call_rate');
    expect(breaker.snapshot().slowCallRate).toBe(50); // while open, the window shows what tripped it
  });
});

describe('open', () => {
  it('rejects at once with CircuitOpenError carrying name, state, time to the next trial and the last failure', async () => {
    const { breaker, clock } = setup({ failMax: 1, openDurationMs: 30_000 });
    const last = new Error('upstream 503');
    await fail(breaker, 1, last);
    clock.advance(10_000);
    let called = false;
    const error = await breaker
      .execute(() => {
        called = true;
        return ok();
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', circuitName: 'svc', state: 'open', retryAfterMs: 20_000 });
    expect((error as Error).cause).toBe(last);
  });

  it('gives the time to the next trial in whole milliseconds, rounded up, on a fractional clock', async () => {
    const clock = new ManualClock(1_764_490_000_123.456);
    const breaker = new CircuitBreaker({ name: 'svc', clock, failMax: 1, openDurationMs: 60_000 });
    await fail(breaker, 1);
    clock.advance(3.525634765625);
    const error = await breaker.execute(ok).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryAfterMs: 59_997 });
    expect(await breaker.tryExecute(ok)).toMatchObject({ ok: false, refusal: { retryAfterMs: 59_997 } });
    clock.advance(59_996);
    expect(await breaker.tryExecute(ok)).toMatchObject({ ok: false, refusal: { retryAfterMs: 1 } });
  });

  it('lets a trial through after openDurationMs and closes on its success', async () => {
    const { breaker, clock, changes } = setup({ failMax: 1, openDurationMs: 5_000 });
    await fail(breaker, 1);
    clock.advance(4_999);
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    clock.advance(1);
    expect(breaker.state).toBe('half_open');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(changes.map((c) => `${c.to}:${c.reason}`)).toEqual([
      'open:failure_count',
      'half_open:open_duration_elapsed',
      'closed:trial_success',
    ]);
  });

  it('reopens on a trial failure', async () => {
    const { breaker, clock, changes } = setup({ failMax: 1, openDurationMs: 5_000 });
    await fail(breaker, 1);
    clock.advance(5_000);
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(changes.at(-1)).toMatchObject({
      from: 'half_open',
      to: 'open',
      reason: 'trial_failure',
      nextTrialAt: clock.now() + 5_000,
    });
  });

  it('needs successThreshold trial successes to close', async () => {
    const { breaker, clock } = setup({ failMax: 1, openDurationMs: 1_000, successThreshold: 3 });
    await fail(breaker, 1);
    clock.advance(1_000);
    await breaker.execute(ok);
    await breaker.execute(ok);
    expect(breaker.state).toBe('half_open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
  });

  it('admits exactly halfOpenMaxCalls of 10 000 concurrent callers and rejects the rest at once', async () => {
    const { breaker, clock } = setup({ failMax: 1, openDurationMs: 1_000, halfOpenMaxCalls: 3, successThreshold: 3 });
    await fail(breaker, 1);
    clock.advance(1_000);
    const gate = deferred<string>();
    let started = 0;
    const calls = Array.from({ length: 10_000 }, () =>
      breaker.execute(() => {
        started++;
        return gate.promise;
      }),
    );
    const rejected = await Promise.allSettled(calls.slice(3));
    expect(started).toBe(3);
    expect(rejected.every((r) => r.status === 'rejected' && r.reason instanceof CircuitOpenError)).toBe(true);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({
      state: 'half_open',
      retryAfterMs: undefined,
    });
    gate.resolve('ok');
    await expect(Promise.all(calls.slice(0, 3))).resolves.toEqual(['ok', 'ok', 'ok']);
    expect(breaker.state).toBe('closed');
  });

  it('does not let a trial from an earlier half-open period free a permit of the current one', async () => {
    const { breaker, clock } = setup({ failMax: 1, openDurationMs: 1_000, trialTimeoutMs: 60_000 });
    await fail(breaker, 1);
    clock.advance(1_000);
    const oldTrial = deferred<string>();
    const old = breaker.execute(() => oldTrial.promise);
    breaker.forceOpen();
    breaker.reset();
    await fail(breaker, 1);
    clock.advance(1_000);
    const current = deferred<string>();
    const trial = breaker.execute(() => current.promise);
    oldTrial.reject(new Error('late'));
    await expect(old).rejects.toThrow('late');
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError); // still the current trial's permit
    expect(breaker.state).toBe('half_open');
    current.resolve('ok');
    await trial;
    expect(breaker.state).toBe('closed');
  });

  it('frees the permit of a trial whose error is ignored, without deciding', async () => {
    const caller = new Error('400');
    const { breaker, clock } = setup({
      failMax: 1,
      openDurationMs: 1_000,
      classify: (e) => (e === caller ? 'ignore' : 'failure'),
    });
    await fail(breaker, 1);
    clock.advance(1_000);
    await expect(breaker.execute(() => Promise.reject(caller))).rejects.toBe(caller);
    expect(breaker.state).toBe('half_open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
  });

  it('reopens when a trial outlives trialTimeoutMs, even if the call ignores its signal', async () => {
    const { breaker, clock, changes } = setup({ failMax: 1, openDurationMs: 1_000, trialTimeoutMs: 2_000 });
    await fail(breaker, 1);
    clock.advance(1_000);
    const trial = breaker.execute(() => new Promise(() => {}));
    clock.advance(2_000);
    await expect(trial).rejects.toBeInstanceOf(TimeoutError);
    expect(breaker.state).toBe('open');
    expect(changes.at(-1)?.reason).toBe('trial_timeout');
  });
});

describe('tryExecute', () => {
  it('resolves a refusal to { ok: false, refusal } instead of rejecting, with what CircuitOpenError would carry', async () => {
    const { breaker, clock } = setup({ failMax: 1, openDurationMs: 30_000 });
    const last = new Error('down');
    await fail(breaker, 1, last);
    clock.advance(1_000);
    await expect(breaker.tryExecute(ok)).resolves.toEqual({
      ok: false,
      refusal: { circuitName: 'svc', state: 'open', retryAfterMs: 29_000, lastError: last },
    });
  });

  it('wraps a value in { ok: true, value } and still rejects with fn’s own errors', async () => {
    const { breaker } = setup({ failMax: 2 });
    await expect(breaker.tryExecute(ok)).resolves.toEqual({ ok: true, value: 'ok' });
    await expect(breaker.tryExecute(boom)).rejects.toThrow('boom');
    expect(breaker.snapshot().failuresInWindow).toBe(1);
  });

  it('takes a half-open trial permit like execute', async () => {
    const { breaker, clock } = setup({ failMax: 1, openDurationMs: 1_000 });
    await fail(breaker, 1);
    clock.advance(1_000);
    const gate = deferred<string>();
    const trial = breaker.tryExecute(() => gate.promise);
    await expect(breaker.tryExecute(ok)).resolves.toMatchObject({ ok: false, refusal: { state: 'half_open' } });
    gate.resolve('ok');
    await expect(trial).resolves.toEqual({ ok: true, value: 'ok' });
    expect(breaker.state).toBe('closed');
  });
});

describe('open duration', () => {
  it('ends the open period at a recovery signal, so the next call is a trial', async () => {
    const { breaker, changes } = setup({ failMax: 1, openDurationMs: 60_000 });
    await fail(breaker, 1);
    expect(breaker.allowTrial()).toBe(true);
    expect(changes.at(-1)).toMatchObject({ from: 'open', to: 'half_open', reason: 'recovery_signal' });
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('ignores a recovery signal unless open (never lifts a forced open)', () => {
    const { breaker } = setup();
    expect(breaker.allowTrial()).toBe(false);
    breaker.forceOpen();
    expect(breaker.allowTrial()).toBe(false);
    expect(breaker.state).toBe('forced_open');
  });

  it('stays open at least as long as a failure’s retryAfterMs asks', async () => {
    const { breaker, clock } = setup({ failMax: 2, openDurationMs: 10_000 });
    await fail(breaker, 1, Object.assign(new Error('429'), { retryAfterMs: 120_000 }));
    await fail(breaker, 1); // the tripping failure carries none: the earlier request still holds
    clock.advance(119_999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half_open');
  });

  it('stays open longer when a late call brings a Retry-After while open, within the cap', async () => {
    const { breaker, clock } = setup({ failMax: 1, openDurationMs: 10_000, maxOpenDurationMs: 100_000 });
    const late = deferred<string>();
    const straggler = breaker.execute(() => late.promise);
    await fail(breaker, 1);
    const openedAt = clock.now();
    late.reject(Object.assign(new Error('429'), { retryAfterMs: 120_000 }));
    await expect(straggler).rejects.toThrow('429');
    expect(breaker.snapshot().nextTrialAt).toBe(openedAt + 100_000);
  });

  it('caps a Retry-After at maxOpenDurationMs', async () => {
    const { breaker, clock } = setup({ failMax: 1, openDurationMs: 10_000, maxOpenDurationMs: 60_000 });
    await fail(breaker, 1, Object.assign(new Error('429'), { retryAfterMs: 3_600_000 }));
    expect(breaker.snapshot().nextTrialAt).toBe(clock.now() + 60_000);
  });

  it('opens at once on a failure carrying retryAfterMs with openOnRetryAfter, for exactly that long', async () => {
    const { breaker, clock, changes } = setup({ failMax: 5, openDurationMs: 60_000, openOnRetryAfter: true });
    const rateLimited = Object.assign(new Error('429'), { retryAfterMs: 2_000 });
    await fail(breaker, 1, rateLimited);
    expect(changes).toMatchObject([
      { from: 'closed', to: 'open', reason: 'retry_after', nextTrialAt: clock.now() + 2_000, lastError: rateLimited },
    ]);
    const refused = await breaker.execute(ok).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'CIRCUIT_OPEN', retryAfterMs: 2_000, cause: rateLimited });
    clock.advance(1_999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half_open');
  });

  it('caps an openOnRetryAfter opening at maxOpenDurationMs', async () => {
    const { breaker, clock, changes } = setup({
      openDurationMs: 10_000,
      maxOpenDurationMs: 60_000,
      openOnRetryAfter: true,
    });
    await fail(breaker, 1, Object.assign(new Error('503'), { retryAfterMs: 3_600_000 }));
    expect(changes.at(-1)).toMatchObject({ reason: 'retry_after', nextTrialAt: clock.now() + 60_000 });
  });

  it('without openOnRetryAfter counts a Retry-After failure as one failure and stays closed', async () => {
    const { breaker, changes } = setup({ failMax: 2 });
    await fail(breaker, 1, Object.assign(new Error('429'), { retryAfterMs: 2_000 }));
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual([]);
  });

  it('with openOnRetryAfter still opens on other failures as configured, and ignores a zero Retry-After', async () => {
    const { breaker, changes } = setup({ failMax: 2, openDurationMs: 5_000, openOnRetryAfter: true });
    await fail(breaker, 1, Object.assign(new Error('429'), { retryAfterMs: 0 }));
    expect(breaker.state).toBe('closed');
    await fail(breaker, 1);
    expect(changes).toMatchObject([{ to: 'open', reason: 'failure_count' }]);
  });

  it('keeps the longer open duration when a Retry-After failure also reaches failMax', async () => {
    const { breaker, clock, changes } = setup({ failMax: 1, openDurationMs: 30_000, openOnRetryAfter: true });
    await fail(breaker, 1, Object.assign(new Error('429'), { retryAfterMs: 1_000 }));
    expect(changes).toMatchObject([{ reason: 'failure_count', nextTrialAt: clock.now() + 30_000 }]);
  });

  it('grows by openDurationMultiplier on consecutive trips, capped, and starts over after closing', async () => {
    const { breaker, clock } = setup({
      failMax: 1,
      openDurationMs: 1_000,
      openDurationMultiplier: 2,
      maxOpenDurationMs: 5_000,
    });
    const openFor: number[] = [];
    breaker.onStateChange((c) => c.to === 'open' && openFor.push(c.nextTrialAt! - c.at));
    await fail(breaker, 1);
    for (let i = 0; i < 3; i++) {
      clock.advance(openFor.at(-1)!);
      await fail(breaker, 1);
    }
    clock.advance(5_000);
    await breaker.execute(ok);
    await fail(breaker, 1);
    expect(openFor).toEqual([1_000, 2_000, 4_000, 5_000, 1_000]);
  });
});

describe('deadlines and aborts', () => {
  it('aborts the signal at callTimeoutMs, rejects with TimeoutError and counts a failure', async () => {
    const { breaker, clock } = setup({ failMax: 1, callTimeoutMs: 500 });
    let signal: AbortSignal | undefined;
    const call = breaker.execute((s) => {
      signal = s;
      return new Promise(() => {});
    });
    clock.advance(499);
    expect(signal?.aborted).toBe(false);
    clock.advance(1);
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'CALL_TIMEOUT', circuitName: 'svc', timeoutMs: 500 });
    expect(signal?.reason).toBe(error);
    expect(breaker.state).toBe('open');
    expect(clock.pendingTimers).toBe(0);
  });

  it('clears the deadline timer when the call finishes first', async () => {
    const { breaker, clock } = setup({ callTimeoutMs: 500 });
    await breaker.execute(ok);
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(clock.pendingTimers).toBe(0);
  });

  it('treats a caller abort as neither failure nor success and passes on its reason', async () => {
    const { breaker } = setup({ failMax: 1, slidingWindow: { kind: 'count', size: 10 } });
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const call = breaker.execute(
      (s) => {
        inner = s;
        return new Promise(() => {});
      },
      { signal: controller.signal },
    );
    controller.abort(new Error('user went away'));
    await expect(call).rejects.toThrow('user went away');
    expect(inner?.aborted).toBe(true);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().callsInWindow).toBe(0);
  });

  it('does not call fn when the caller’s signal is already aborted', async () => {
    const { breaker } = setup();
    let called = false;
    const reason = new Error('gone');
    await expect(
      breaker.execute(
        () => {
          called = true;
          return ok();
        },
        { signal: AbortSignal.abort(reason) },
      ),
    ).rejects.toBe(reason);
    expect(called).toBe(false);
  });

  it('leaves no listener on a long-lived caller signal after 1 000 000 calls', async () => {
    const { breaker, clock } = setup({ callTimeoutMs: 1_000 });
    const controller = new AbortController();
    for (let i = 0; i < 1_000_000; i++) await breaker.execute(ok, { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  }, 60_000);
});

describe('signals', () => {
  it('gives each call that takes a signal its own, so listeners an SDK leaves behind die with the call', async () => {
    const { breaker } = setup();
    const seen = new Set<AbortSignal>();
    for (let i = 0; i < 3; i++) {
      await breaker.execute((signal) => {
        seen.add(signal);
        signal.addEventListener('abort', () => {}); // never removed, as openai-node does
        return ok();
      });
    }
    expect(seen.size).toBe(3);
  });
});

describe('classification', () => {
  it('ignores a BulkheadFullError whatever the classifier says: it is our own saturation', async () => {
    const { breaker } = setup({ failMax: 1 });
    const full = new BulkheadFullError(1, 0);
    await expect(breaker.execute(() => Promise.reject(full))).rejects.toBe(full);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', callsInWindow: 0 });
  });

  it('passes ignored errors through unchanged and counts them as nothing', async () => {
    const callerError = Object.assign(new Error('bad request'), { status: 400 });
    const { breaker } = setup({
      failMax: 1,
      classify: (e) => ((e as { status?: number }).status === 400 ? 'ignore' : 'failure'),
    });
    for (let i = 0; i < 10; i++)
      await expect(breaker.execute(() => Promise.reject(callerError))).rejects.toBe(callerError);
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot().callsInWindow).toBe(0);
  });

  it('rethrows an error classified success but counts it as a success', async () => {
    const notFound = new Error('404');
    const { breaker } = setup({ failMax: 1, classify: () => 'success' });
    await expect(breaker.execute(() => Promise.reject(notFound))).rejects.toBe(notFound);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', callsInWindow: 1, failuresInWindow: 0 });
  });

  it('counts a failure when the classifier itself throws', async () => {
    const { breaker } = setup({
      failMax: 1,
      classify: () => {
        throw new Error('classifier bug');
      },
    });
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('counts every error as a failure by default, including synchronous throws', async () => {
    const { breaker } = setup({ failMax: 2 });
    await expect(
      breaker.execute(() => {
        throw new TypeError('sync');
      }),
    ).rejects.toThrow('sync');
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
  });
});

describe('late results', () => {
  it('does not count an ordinary call that finishes while the circuit is open', async () => {
    const { breaker, clock } = setup({ failMax: 2, openDurationMs: 1_000 });
    const slow = deferred<string>();
    const straggler = breaker.execute(() => slow.promise);
    await fail(breaker, 2);
    const nextTrialAt = breaker.snapshot().nextTrialAt;
    clock.advance(500);
    slow.reject(new Error('late failure'));
    await expect(straggler).rejects.toThrow('late failure');
    expect(breaker.snapshot()).toMatchObject({ state: 'open', nextTrialAt });
  });

  it('does not let an ordinary call in flight when the circuit went half-open act as a trial', async () => {
    const { breaker, clock } = setup({ failMax: 2, openDurationMs: 1_000 });
    const slow = deferred<string>();
    const straggler = breaker.execute(() => slow.promise);
    await fail(breaker, 2);
    clock.advance(1_000);
    const trial = deferred<string>();
    const trialCall = breaker.execute(() => trial.promise);
    slow.resolve('late success');
    await straggler;
    expect(breaker.state).toBe('half_open');
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError); // the permit is still the trial's
    trial.resolve('ok');
    await trialCall;
    expect(breaker.state).toBe('closed');
  });

  it('counts a call that finishes in a later closed period there, as resilience4j does', async () => {
    const { breaker, clock } = setup({ failMax: 2, openDurationMs: 1_000 });
    const slow = deferred<string>();
    const straggler = breaker.execute(() => slow.promise);
    await fail(breaker, 2);
    clock.advance(1_000);
    await breaker.execute(ok);
    slow.reject(new Error('late failure'));
    await expect(straggler).rejects.toThrow('late failure');
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', failuresInWindow: 1 });
  });
});

describe('modes', () => {
  it('forced_open rejects everything until reset', async () => {
    const { breaker, changes } = setup();
    breaker.forceOpen();
    const error = await breaker.execute(ok).catch((e: unknown) => e);
    expect(error).toMatchObject({ state: 'forced_open', retryAfterMs: undefined });
    breaker.reset();
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(changes.map((c) => `${c.from}>${c.to}:${c.reason}`)).toEqual([
      'closed>forced_open:forced_open',
      'forced_open>closed:reset',
    ]);
  });

  it('disabled passes every call and records nothing, not even in metrics', async () => {
    const recorded: string[] = [];
    const breaker = new CircuitBreaker(
      { name: 'svc', clock: new ManualClock(), failMax: 1, mode: 'disabled' },
      { observer: { onCall: (status) => recorded.push(status), onTransition() {}, onShadowTrip() {} } },
    );
    expect(breaker.state).toBe('disabled');
    await fail(breaker, 5);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.snapshot()).toMatchObject({ state: 'disabled', callsInWindow: 0 });
    expect(recorded).toEqual([]);
  });

  it('metrics_only blocks nothing, reports each would-be trip and starts a fresh window', async () => {
    const shadow: string[] = [];
    const clock = new ManualClock();
    const breaker = new CircuitBreaker(
      { name: 'svc', clock, failMax: 2, mode: 'metrics_only' },
      { observer: { onCall() {}, onTransition() {}, onShadowTrip: (reason) => shadow.push(reason) } },
    );
    await fail(breaker, 5);
    expect(breaker.state).toBe('metrics_only');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(shadow).toEqual(['failure_count', 'failure_count']);
    expect(breaker.snapshot().failuresInWindow).toBe(1);
  });

  it('metrics_only reports a Retry-After opening as a shadow trip, blocking nothing', async () => {
    const shadow: string[] = [];
    const breaker = new CircuitBreaker(
      { name: 'svc', clock: new ManualClock(), failMax: 5, mode: 'metrics_only', openOnRetryAfter: true },
      { observer: { onCall() {}, onTransition() {}, onShadowTrip: (reason) => shadow.push(reason) } },
    );
    await fail(breaker, 1, Object.assign(new Error('429'), { retryAfterMs: 2_000 }));
    expect(breaker.state).toBe('metrics_only');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(shadow).toEqual(['retry_after']);
  });

  it('reset closes an open circuit with an empty window', async () => {
    const { breaker } = setup({ failMax: 1 });
    await fail(breaker, 1);
    breaker.reset();
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', callsInWindow: 0 });
  });
});

describe('listeners', () => {
  it('stop being called once unsubscribed, and one that throws does not break the breaker', async () => {
    const { breaker } = setup({ failMax: 1 });
    const seen: string[] = [];
    const off = breaker.onStateChange((c) => seen.push(c.to));
    breaker.onStateChange(() => {
      throw new Error('listener bug');
    });
    await fail(breaker, 1);
    off();
    breaker.reset();
    expect(seen).toEqual(['open']);
    expect(breaker.state).toBe('closed');
  });
});

describe('configuration', () => {
  it('rejects bad options with a ConfigError naming each field, the value and what was expected', () => {
    expect(() => new CircuitBreaker({ name: 'svc', failMax: -3, failureRateThreshold: 150 })).toThrow(ConfigError);
    expect(() => new CircuitBreaker({ name: 'svc', failMax: -3, failureRateThreshold: 150 })).toThrow(
      'Circuit "svc": failMax: expected a positive integer, got -3; failureRateThreshold: expected a percentage in (0, 100], got 150',
    );
  });

  it('rejects unknown options, naming them', () => {
    expect(() => new CircuitBreaker({ name: 'svc', failmax: 3 } as BreakerConfig)).toThrow(/failmax/);
  });

  it('rejects a cap shorter than the open duration', () => {
    expect(() => new CircuitBreaker({ name: 'svc', openDurationMs: 10_000, maxOpenDurationMs: 5_000 })).toThrow(
      'maxOpenDurationMs (5000) must be at least openDurationMs (10000)',
    );
  });

  it('uses the documented defaults', () => {
    expect(new CircuitBreaker({ name: 'svc' }).config).toEqual({
      name: 'svc',
      failMax: 5,
      slidingWindow: { kind: 'time', seconds: 60 },
      failureRateThreshold: undefined,
      minimumCalls: 10,
      slowCallDurationMs: undefined,
      slowCallRateThreshold: 100,
      openDurationMs: 60_000,
      openDurationMultiplier: 1,
      maxOpenDurationMs: 600_000,
      openOnRetryAfter: false,
      halfOpenMaxCalls: 1,
      successThreshold: 1,
      callTimeoutMs: undefined,
      trialTimeoutMs: 30_000,
      critical: false,
      mode: undefined,
    });
  });

  it('judges rates once a count window is full when minimumCalls exceeds its size, as resilience4j does', async () => {
    const { breaker } = setup({ failMax: 5, slidingWindow: { kind: 'count', size: 5 }, failureRateThreshold: 50 });
    expect(breaker.config.minimumCalls).toBe(5);
    await breaker.execute(ok);
    await breaker.execute(ok);
    await fail(breaker, 3);
    expect(breaker.state).toBe('open');
  });
});

describe('timers', () => {
  it('keeps no timer while idle or open', async () => {
    const { breaker, clock } = setup({ failMax: 1 });
    await fail(breaker, 1);
    await flushPromises();
    expect(breaker.state).toBe('open');
    expect(clock.pendingTimers).toBe(0);
  });
});
