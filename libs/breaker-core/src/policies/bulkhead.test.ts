import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BulkheadFullError, ConfigError } from '../errors.js';
import { deferred, flushPromises, ManualClock, track } from '../testing.js';
import { Bulkhead } from './bulkhead.js';

/** Lets a test ask whether a promise has settled yet without awaiting it. */
describe('Bulkhead options', () => {
  it.each([
    [{ maxConcurrent: 0 }, 'maxConcurrent: expected a positive integer, got 0'],
    [{}, 'maxConcurrent: expected a positive integer, got nothing'],
    [{ maxConcurrent: 2, maxQueue: -1 }, 'maxQueue: expected a non-negative integer, got -1'],
    [{ maxConcurrent: 2, maxQueue: Number.POSITIVE_INFINITY }, 'maxQueue: expected a non-negative integer'],
    [{ maxConcurrent: 2, queueTimeoutMs: 0 }, 'queueTimeoutMs: expected a positive number, got 0'],
    [{ maxConcurrent: 2, clock: 1 }, 'clock: expected a Clock'],
    [{ maxConcurrent: 2, queueSize: 1 }, 'queueSize'],
  ])('rejects %j with a ConfigError naming the field', (options, message) => {
    const make = () => new Bulkhead(options as never);
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(message);
  });

  it('defaults to no queue and no queue timeout', () => {
    expect(new Bulkhead({ maxConcurrent: 3 })).toMatchObject({ maxQueue: 0, queueTimeoutMs: undefined });
  });
});

describe('Bulkhead.execute', () => {
  it('runs up to maxConcurrent calls at once and reports them as running', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 2 });
    const a = deferred<string>();
    const b = deferred<string>();
    const ra = bulkhead.execute(() => a.promise);
    const rb = bulkhead.execute(() => b.promise);
    expect(bulkhead.running).toBe(2);
    a.resolve('a');
    b.resolve('b');
    expect(await Promise.all([ra, rb])).toEqual(['a', 'b']);
    expect(bulkhead.running).toBe(0);
  });

  it('rejects a call beyond maxConcurrent at once with BulkheadFullError when there is no queue', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const held = deferred();
    void bulkhead.execute(() => held.promise);
    let called = false;
    const error = await bulkhead
      .execute(() => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkheadFullError);
    expect(error).toMatchObject({ code: 'BULKHEAD_FULL', maxConcurrent: 1, maxQueue: 0 });
    expect(called).toBe(false);
    held.resolve();
  });

  it('lets queued callers in first come, first served as slots free up', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 3 });
    const started: number[] = [];
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const results = gates.map((gate, i) =>
      bulkhead.execute(async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    await flushPromises();
    expect(started).toEqual([0]);
    expect(bulkhead.queued).toBe(3);
    for (const gate of gates) {
      gate.resolve();
      await flushPromises();
    }
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(bulkhead.queued).toBe(0);
    expect(bulkhead.running).toBe(0);
  });

  it('rejects a caller at once with BulkheadFullError when the queue is full', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const held = deferred();
    void bulkhead.execute(() => held.promise);
    const queued = bulkhead.execute(() => 'queued');
    await expect(bulkhead.execute(() => 'extra')).rejects.toMatchObject({
      constructor: BulkheadFullError,
      maxConcurrent: 1,
      maxQueue: 1,
    });
    expect(bulkhead.queued).toBe(1);
    held.resolve();
    await expect(queued).resolves.toBe('queued');
  });

  it('does not let a newcomer overtake a queued caller when a slot frees', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const held = deferred();
    const order: string[] = [];
    void bulkhead.execute(() => held.promise);
    const queued = bulkhead.execute(() => order.push('queued'));
    held.resolve();
    await flushPromises();
    const late = bulkhead.execute(() => order.push('late'));
    await Promise.all([queued, late]);
    expect(order).toEqual(['queued', 'late']);
  });

  it('removes a queued caller whose signal aborts, rejecting with its reason', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 2 });
    const held = deferred();
    void bulkhead.execute(() => held.promise);
    const caller = new AbortController();
    let called = false;
    const result = bulkhead.execute(
      () => {
        called = true;
      },
      { signal: caller.signal },
    );
    expect(bulkhead.queued).toBe(1);
    caller.abort('changed my mind');
    await expect(result).rejects.toBe('changed my mind');
    expect(bulkhead.queued).toBe(0);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    held.resolve();
    await flushPromises();
    expect(called).toBe(false);
    expect(bulkhead.running).toBe(0);
  });

  it('rejects with the reason of an already-aborted caller signal without taking a slot', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const caller = new AbortController();
    caller.abort('cancelled');
    let called = false;
    const result = bulkhead.execute(
      () => {
        called = true;
      },
      { signal: caller.signal },
    );
    expect(bulkhead.running).toBe(0);
    await expect(result).rejects.toBe('cancelled');
    expect(called).toBe(false);
  });

  it('rejects a queued caller with BulkheadFullError once it has waited queueTimeoutMs', async () => {
    const clock = new ManualClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 500, clock });
    const held = deferred();
    void bulkhead.execute(() => held.promise);
    const state = track(bulkhead.execute(() => 'never'));
    clock.advance(499);
    await flushPromises();
    expect(state.status).toBe('pending');
    clock.advance(1);
    await flushPromises();
    expect(state.status).toBe('rejected');
    expect(state.error).toBeInstanceOf(BulkheadFullError);
    expect(bulkhead.queued).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    held.resolve();
  });

  it('clears the queue timer and the abort listener of a caller that gets its slot', async () => {
    const clock = new ManualClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 500, clock });
    const caller = new AbortController();
    const held = deferred();
    void bulkhead.execute(() => held.promise);
    const result = bulkhead.execute(() => 'in', { signal: caller.signal });
    expect(clock.pendingTimers).toBe(1);
    held.resolve();
    await expect(result).resolves.toBe('in');
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects a granted caller whose signal aborted before its call started, freeing the slot', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const caller = new AbortController();
    const held = deferred();
    void bulkhead.execute(() => held.promise);
    let called = false;
    const result = bulkhead.execute(
      () => {
        called = true;
      },
      { signal: caller.signal },
    );
    // The slot is handed over when the held call ends; this abort is queued to land after the
    // hand-over but before the granted call starts.
    held.resolve();
    queueMicrotask(() => caller.abort('late abort'));
    await expect(result).rejects.toBe('late abort');
    expect(called).toBe(false);
    expect(bulkhead.running).toBe(0);
  });

  it.each([
    ['resolves', () => Promise.resolve('ok')],
    ['rejects', () => Promise.reject(new Error('no'))],
    [
      'throws synchronously',
      () => {
        throw new Error('sync');
      },
    ],
  ])('releases its slot when the call %s', async (_, fn) => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    await bulkhead.execute(fn).catch(() => {});
    expect(bulkhead.running).toBe(0);
    await expect(bulkhead.execute(() => 'next')).resolves.toBe('next');
  });

  it('passes the caller’s signal to the call', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const caller = new AbortController();
    await expect(bulkhead.execute((signal) => signal, { signal: caller.signal })).resolves.toBe(caller.signal);
  });

  it('never runs more than 10 of 10 000 concurrent callers at once, and completes them all', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 10, maxQueue: 10_000 });
    let running = 0;
    let maxRunning = 0;
    const results = Array.from({ length: 10_000 }, (_, i) =>
      bulkhead.execute(async () => {
        running++;
        maxRunning = Math.max(maxRunning, running, bulkhead.running);
        await new Promise<void>((resolve) => setImmediate(resolve));
        running--;
        if (i % 3 === 0) throw new Error(`call ${i}`);
        return i;
      }),
    );
    const outcomes = await Promise.allSettled(results);
    expect(maxRunning).toBe(10);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(6666);
    expect(outcomes.filter((o) => o.status === 'rejected' && !(o.reason instanceof BulkheadFullError))).toHaveLength(
      3334,
    );
    expect(bulkhead.running).toBe(0);
    expect(bulkhead.queued).toBe(0);
  });

  it('admits exactly maxConcurrent + maxQueue of any burst and rejects the rest', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 30 }),
        async (maxConcurrent, maxQueue, callers) => {
          const bulkhead = new Bulkhead({ maxConcurrent, maxQueue });
          let running = 0;
          let maxRunning = 0;
          const outcomes = await Promise.allSettled(
            Array.from({ length: callers }, () =>
              bulkhead.execute(async () => {
                maxRunning = Math.max(maxRunning, ++running);
                await flushPromises();
                running--;
              }),
            ),
          );
          const admitted = Math.min(callers, maxConcurrent + maxQueue);
          expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(admitted);
          expect(outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof BulkheadFullError)).toHaveLength(
            callers - admitted,
          );
          expect(maxRunning).toBeLessThanOrEqual(maxConcurrent);
          expect(bulkhead.running + bulkhead.queued).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });
});
