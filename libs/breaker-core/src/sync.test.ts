import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker.js';
import { CircuitOpenError } from './errors.js';
import { BreakerRegistry } from './registry.js';
import type { StateSync } from './sync.js';
import { deferred, ManualClock, silentLogger } from './testing.js';
import type { StateChange } from './types.js';

/** A StateSync that records what the breaker asks and answers `delay` to probeDelay. */
function fakeSync(delay: (now: number) => number = () => 0) {
  const attached: CircuitBreaker[] = [];
  const asked: number[] = [];
  const sync: StateSync = {
    attach: (breaker) => void attached.push(breaker),
    probeDelay: (_breaker, now) => {
      asked.push(now);
      return delay(now);
    },
  };
  return { sync, attached, asked };
}

function breakerWith(sync: StateSync, clock = new ManualClock(0)) {
  const breaker = new CircuitBreaker(
    { name: 'svc', clock, failMax: 2, openDurationMs: 1_000, slidingWindow: { kind: 'count', size: 10 } },
    { sync },
  );
  const changes: StateChange[] = [];
  breaker.onStateChange((change) => changes.push(change));
  return { breaker, clock, changes };
}

/** A trial call that stays in flight: the first call past the open period turns the circuit half-open. */
function startTrial(breaker: CircuitBreaker): void {
  void breaker.execute(() => deferred().promise).catch(() => {});
}

const fail = (breaker: CircuitBreaker) => breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});

describe('StateSync hooks', () => {
  it('is attached once to every breaker a registry makes, from the breaker itself', () => {
    const { sync, attached } = fakeSync();
    const registry = new BreakerRegistry({ metrics: false, logger: silentLogger(), sync });
    const a = registry.breaker('a');
    registry.breaker('a');
    const b = registry.breaker('b');
    expect(attached).toEqual([a, b]);
    expect(new BreakerRegistry({ metrics: false, logger: silentLogger() }).breaker('c')).toBeInstanceOf(CircuitBreaker);
  });

  it('never asks the sync on a closed circuit, nor before the open period has run out', async () => {
    const { sync, asked } = fakeSync();
    const { breaker, clock } = breakerWith(sync);
    for (let i = 0; i < 100; i++) await breaker.execute(() => i);
    expect(breaker.state).toBe('closed');
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('open');
    clock.advance(999);
    await expect(breaker.execute(() => 1)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(asked).toEqual([]);
    clock.advance(1);
    await breaker.execute(() => 1); // the first call past the open period asks, and is the trial
    expect(asked).toEqual([1_000]);
    expect(breaker.state).toBe('closed');
  });

  it('lets a read of the state (a health check) never take the probe: only a call asks', async () => {
    const { sync, asked } = fakeSync();
    const clock = new ManualClock(0);
    const registry = new BreakerRegistry({ metrics: false, logger: silentLogger(), sync, clock });
    const breaker = registry.breaker('svc', { failMax: 1, openDurationMs: 1_000 });
    await fail(breaker);
    clock.advance(1_000);
    expect(breaker.state).toBe('open');
    expect(registry.health().circuits.svc!.state).toBe('open');
    expect(asked).toEqual([]);
    startTrial(breaker);
    expect(asked).toEqual([1_000]);
    expect(breaker.state).toBe('half_open');
  });

  it('stays open while another replica probes, refusing with the wait as retryAfterMs', async () => {
    let probing = true;
    const { sync } = fakeSync(() => (probing ? 250 : 0));
    const { breaker, clock, changes } = breakerWith(sync);
    await fail(breaker);
    await fail(breaker);
    clock.advance(1_000);
    const refused = await breaker.tryExecute(() => 1);
    expect(refused).toEqual({
      ok: false,
      refusal: expect.objectContaining({ state: 'open', retryAfterMs: 250 }),
    });
    expect(breaker.snapshot().nextTrialAt).toBe(1_250);
    clock.advance(250);
    probing = false;
    expect(await breaker.execute(() => 'trial')).toBe('trial');
    expect(breaker.state).toBe('closed');
    expect(changes.map((c) => `${c.to}:${c.reason}`)).toEqual([
      'open:failure_count',
      'half_open:open_duration_elapsed',
      'closed:trial_success',
    ]);
  });

  it('goes half-open when the sync throws (each replica goes on alone)', async () => {
    const { sync } = fakeSync(() => {
      throw new Error('store down');
    });
    const { breaker, clock } = breakerWith(sync);
    await fail(breaker);
    await fail(breaker);
    clock.advance(1_000);
    startTrial(breaker);
    expect(breaker.state).toBe('half_open');
  });

  it('adoptOpen opens a closed or half-open circuit for the time given, and moves the end of an open one', async () => {
    const { sync } = fakeSync();
    const { breaker, clock, changes } = breakerWith(sync);
    clock.advance(10);
    expect(breaker.adoptOpen(400)).toBe(true);
    expect(breaker.state).toBe('open');
    expect(changes.at(-1)).toMatchObject({ from: 'closed', to: 'open', reason: 'peer_open', at: 10, nextTrialAt: 410 });
    const refused = await breaker.tryExecute(() => 1);
    expect(refused.ok === false && refused.refusal.retryAfterMs).toBe(400);

    expect(breaker.adoptOpen(2_000)).toBe(false); // already open: only its end moves
    expect(breaker.snapshot().nextTrialAt).toBe(2_010);
    expect(changes).toHaveLength(1);

    clock.advance(2_000);
    startTrial(breaker);
    expect(breaker.state).toBe('half_open');
    expect(breaker.adoptOpen(300)).toBe(true);
    expect(changes.at(-1)).toMatchObject({ from: 'half_open', to: 'open', reason: 'peer_open' });
    expect(breaker.adoptOpen(0)).toBe(false);
    expect(breaker.adoptOpen(Number.NaN)).toBe(false);
  });

  it('adoptOpen is capped by maxOpenDurationMs and leaves the manual modes alone', () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreaker({ name: 'svc', clock, openDurationMs: 1_000, maxOpenDurationMs: 5_000 });
    breaker.adoptOpen(60_000);
    expect(breaker.snapshot().nextTrialAt).toBe(5_000);
    for (const mode of ['forceOpen', 'disable', 'metricsOnly'] as const) {
      breaker[mode]();
      const state = breaker.state;
      expect(breaker.adoptOpen(1_000)).toBe(false);
      expect(breaker.adoptClose()).toBe(false);
      expect(breaker.state).toBe(state);
    }
  });

  it('adoptClose closes an open or half-open circuit with an empty window, and nothing else', async () => {
    const { sync } = fakeSync();
    const { breaker, clock, changes } = breakerWith(sync);
    expect(breaker.adoptClose()).toBe(false);
    await fail(breaker);
    await fail(breaker);
    expect(breaker.adoptClose()).toBe(true);
    expect(changes.at(-1)).toMatchObject({ from: 'open', to: 'closed', reason: 'peer_close' });
    expect(breaker.snapshot().failuresInWindow).toBe(0);
    await fail(breaker); // one failure: the window started over
    expect(breaker.state).toBe('closed');
    await fail(breaker);
    clock.advance(1_000);
    startTrial(breaker);
    expect(breaker.state).toBe('half_open');
    expect(breaker.adoptClose()).toBe(true);
    expect(breaker.state).toBe('closed');
  });
});
