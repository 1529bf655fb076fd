import { ConfigError, FallbackExhaustedError } from '../errors.js';
import { idleSignal } from '../signals.js';
import type { Sourced, ValueSource } from '../types.js';

export interface FallbackStep<T, S extends string = ValueSource> {
  /** Where the value comes from when this step wins. */
  source: S;
  /** The upstream this step asks, when it asks one (named in FallbackExhaustedError). */
  upstream?: string;
  /** Returns the value, or undefined when it has none (e.g. a cache miss). */
  run: (signal: AbortSignal) => Promise<T | undefined> | T | undefined;
}

export interface FallbackStepEvent<S extends string = ValueSource> {
  source: S;
  outcome: 'value' | 'empty' | 'error';
  error?: unknown;
}

export interface FallbackChainOptions<S extends string = ValueSource> {
  signal?: AbortSignal;
  /** Errors that must not be masked by a later step (e.g. HTTP 400): the chain rethrows them. */
  stopOn?: (error: unknown) => boolean;
  /** Told the outcome of every step tried, for metrics and logs. */
  onStep?: (event: FallbackStepEvent<S>) => void;
}

/**
 * Tries each step in order and resolves with the first value and the source it came from. Steps
 * that throw or have no value pass to the next; an error chosen by `stopOn`, or any error once the
 * caller has aborted, is rethrown unchanged. When every step fails, rejects with
 * FallbackExhaustedError listing each step's source and error.
 */
export async function fallbackChain<T, S extends string = ValueSource>(
  steps: ReadonlyArray<FallbackStep<T, S>>,
  options?: FallbackChainOptions<S>,
): Promise<Sourced<T, S>> {
  if (steps.length === 0) {
    throw new ConfigError('fallbackChain: steps: expected at least one step', [
      { path: 'steps', message: 'expected at least one step' },
    ]);
  }
  const caller = options?.signal;
  const stopOn = options?.stopOn;
  const onStep = options?.onStep;
  const failures: Array<{ source: S; upstream?: string; error: unknown }> = [];
  for (const step of steps) {
    const source = step.source;
    if (caller?.aborted) throw caller.reason;
    let value: T | undefined;
    try {
      // Called as a method so a step object may use `this`.
      value = await step.run(caller ?? idleSignal(step.run));
    } catch (error) {
      onStep?.({ source, outcome: 'error', error });
      if (caller?.aborted || stopOn?.(error)) throw error;
      failures.push(failure(step, error));
      continue;
    }
    if (value === undefined) {
      onStep?.({ source, outcome: 'empty' });
      failures.push(failure(step, new Error('no value')));
      continue;
    }
    onStep?.({ source, outcome: 'value' });
    return { value, source };
  }
  throw new FallbackExhaustedError(failures);
}

function failure<S extends string>(step: FallbackStep<unknown, S>, error: unknown) {
  return step.upstream === undefined
    ? { source: step.source, error }
    : { source: step.source, upstream: step.upstream, error };
}
