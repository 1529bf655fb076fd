import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError, FallbackExhaustedError } from '../errors.js';
import type { Sourced } from '../types.js';
import { type FallbackStep, type FallbackStepEvent, fallbackChain } from './fallback.js';

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** A step that counts its runs and returns (or throws) what it is given. */
function step<T, S extends string>(
  source: S,
  outcome: { value?: T; error?: unknown },
): FallbackStep<T, S> & { runs: number } {
  const s = {
    source,
    runs: 0,
    run: async () => {
      s.runs++;
      if ('error' in outcome) throw outcome.error;
      return outcome.value;
    },
  };
  return s;
}

describe('fallbackChain', () => {
  it('resolves with the first step’s value and its source, without running later steps', async () => {
    const live = step('live', { value: 42 });
    const fallback = step('default', { value: 0 });
    await expect(fallbackChain([live, fallback])).resolves.toEqual({ value: 42, source: 'live' });
    expect(fallback.runs).toBe(0);
  });

  it('moves on from a step that throws', async () => {
    const result = await fallbackChain([
      step('live', { error: new Error('down') }),
      step('cache', { value: 'cached' }),
    ]);
    expect(result).toEqual({ value: 'cached', source: 'cache' });
  });

  it('moves on from a step that returns undefined (a cache miss)', async () => {
    const result = await fallbackChain<string>([
      step('cache', { value: undefined }),
      { source: 'default', run: () => 'default value' },
    ]);
    expect(result).toEqual({ value: 'default value', source: 'default' });
  });

  it('treats null and other falsy values as values', async () => {
    await expect(fallbackChain([step('cache', { value: null }), step('default', { value: 1 })])).resolves.toEqual({
      value: null,
      source: 'cache',
    });
    await expect(fallbackChain([step('live', { value: 0 })])).resolves.toEqual({ value: 0, source: 'live' });
  });

  it('accepts steps that return synchronously or throw synchronously', async () => {
    const result = await fallbackChain<number>([
      {
        source: 'live',
        run: () => {
          throw new Error('sync');
        },
      },
      { source: 'default', run: () => 7 },
    ]);
    expect(result).toEqual({ value: 7, source: 'default' });
  });

  it('calls run as a method of its step', async () => {
    const cacheStep = {
      source: 'cache' as const,
      stored: 'from this',
      run() {
        return this.stored;
      },
    };
    await expect(fallbackChain([cacheStep])).resolves.toEqual({ value: 'from this', source: 'cache' });
  });

  it('stops and rethrows unchanged an error chosen by stopOn, without running later steps', async () => {
    const badRequest = new HttpError(400);
    const fallback = step('default', { value: 0 });
    const result = fallbackChain([step('live', { error: badRequest }), fallback], {
      stopOn: (error) => error instanceof HttpError && error.status < 500,
    });
    await expect(result).rejects.toBe(badRequest);
    expect(fallback.runs).toBe(0);
  });

  it('rethrows a step’s error unchanged once the caller has aborted', async () => {
    const caller = new AbortController();
    const failure = new Error('aborted mid-call');
    const fallback = step('default', { value: 0 });
    const live: FallbackStep<number> = {
      source: 'live',
      run: async () => {
        caller.abort('gone');
        throw failure;
      },
    };
    await expect(fallbackChain([live, fallback], { signal: caller.signal })).rejects.toBe(failure);
    expect(fallback.runs).toBe(0);
  });

  it('rejects with the caller’s reason, running no further step, when the caller aborts between steps', async () => {
    const caller = new AbortController();
    const fallback = step('default', { value: 0 });
    const cache: FallbackStep<number> = {
      source: 'cache',
      run: () => {
        caller.abort('gone');
        return undefined;
      },
    };
    await expect(fallbackChain([cache, fallback], { signal: caller.signal })).rejects.toBe('gone');
    expect(fallback.runs).toBe(0);
  });

  it('rejects with the reason of an already-aborted caller signal without running any step', async () => {
    const caller = new AbortController();
    caller.abort('cancelled');
    const live = step('live', { value: 1 });
    await expect(fallbackChain([live], { signal: caller.signal })).rejects.toBe('cancelled');
    expect(live.runs).toBe(0);
  });

  it('gives every step the caller’s signal', async () => {
    const caller = new AbortController();
    const seen: AbortSignal[] = [];
    await fallbackChain<number>(
      [
        { source: 'live', run: (signal) => void seen.push(signal) },
        { source: 'default', run: (signal) => seen.push(signal) },
      ],
      { signal: caller.signal },
    );
    expect(seen).toEqual([caller.signal, caller.signal]);
  });

  it('rejects with FallbackExhaustedError listing each step’s source and error when every step fails', async () => {
    const down = new Error('connection refused');
    const corrupt = new Error('bad cache entry');
    const error = await fallbackChain([
      step('live', { error: down }),
      step('cache', { value: undefined }),
      step('stale', { error: corrupt }),
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FallbackExhaustedError);
    const exhausted = error as FallbackExhaustedError;
    expect(exhausted.code).toBe('FALLBACK_EXHAUSTED');
    expect(exhausted.errors).toEqual([
      { source: 'live', error: down },
      { source: 'cache', error: new Error('no value') },
      { source: 'stale', error: corrupt },
    ]);
    expect(exhausted.cause).toBe(corrupt);
    expect(exhausted.message).toBe(
      'Every fallback step failed: live (connection refused), cache (no value), stale (bad cache entry)',
    );
  });

  it('reports the outcome of every step tried to onStep, in order', async () => {
    const down = new Error('down');
    const events: FallbackStepEvent[] = [];
    await fallbackChain(
      [
        step('live', { error: down }),
        step('cache', { value: undefined }),
        step('default', { value: 1 }),
        step('failover', { value: 2 }),
      ],
      { onStep: (event) => events.push(event) },
    );
    expect(events).toEqual([
      { source: 'live', outcome: 'error', error: down },
      { source: 'cache', outcome: 'empty' },
      { source: 'default', outcome: 'value' },
    ]);
  });

  it('reports a step stopped by stopOn to onStep before rethrowing', async () => {
    const badRequest = new HttpError(400);
    const events: FallbackStepEvent[] = [];
    await fallbackChain([step('live', { error: badRequest })], {
      stopOn: () => true,
      onStep: (event) => events.push(event),
    }).catch(() => {});
    expect(events).toEqual([{ source: 'live', outcome: 'error', error: badRequest }]);
  });

  it('rejects an empty chain with a ConfigError naming steps', async () => {
    const error = await fallbackChain([]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe('fallbackChain: steps: expected at least one step');
  });

  it('infers the value type and the union of sources from its steps', () => {
    const result = fallbackChain([
      { source: 'live', run: async () => 1 as number | undefined },
      { source: 'default', run: () => 0 },
    ]);
    expectTypeOf(result).toEqualTypeOf<Promise<Sourced<number, 'live' | 'default'>>>();
  });

  it('accepts sources outside ValueSource when S is given', async () => {
    const result = await fallbackChain<string, 'anthropic' | 'openai'>([
      { source: 'anthropic', run: () => undefined },
      { source: 'openai', run: () => 'answer' },
    ]);
    expect(result).toEqual({ value: 'answer', source: 'openai' });
  });
});
