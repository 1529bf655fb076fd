import { type FallbackChainOptions, type FallbackStep, fallbackChain } from '../policies/fallback.js';
import type { ValueSource } from '../types.js';

/** One upstream that can answer the same request: the first is the primary, the rest its failovers. */
export interface Upstream<T> {
  name: string;
  /** The value, or undefined when it has none (its circuit refused, say). */
  run: (signal: AbortSignal) => Promise<T | undefined> | T | undefined;
}

export interface FailoverOptions<T> extends FallbackChainOptions<ValueSource> {
  /** Tried after the primary and before the failovers: copies of the primary's own answer (`cache`, `stale`). */
  between?: ReadonlyArray<FallbackStep<T>>;
  /** Tried when every upstream has failed: a conservative `default`. */
  last?: ReadonlyArray<FallbackStep<T>>;
}

export interface FailoverResult<T> {
  value: T;
  source: ValueSource;
  /** The upstream that answered (undefined when a `between` or `last` step did). */
  upstream: string | undefined;
}

/**
 * The failover every client uses, on breaker-core's fallbackChain: the primary (`live`), then the
 * `between` steps, then each other upstream in order (`failover`), then the `last` steps. When all
 * fail it rejects with FallbackExhaustedError naming each step and upstream; errors chosen by
 * `stopOn` (the caller's own mistakes) are rethrown at once, never hidden by a failover.
 */
export async function failover<T>(
  upstreams: ReadonlyArray<Upstream<T>>,
  options: FailoverOptions<T> = {},
): Promise<FailoverResult<T>> {
  // Which failover answered (a `live` answer is the primary's): recorded by its step.
  let failedOverTo: string | undefined;
  // Built in place, without rest or spread copies: this runs on every call of every client.
  const steps: Array<FallbackStep<T>> = [];
  const primary = upstreams[0];
  if (primary) {
    // A primary that takes no signal is asked through a step that takes none: fallbackChain then
    // makes none for it when the caller gave none.
    const run: FallbackStep<T>['run'] =
      primary.run.length === 0 ? () => primary.run(undefined as never) : (signal) => primary.run(signal);
    steps.push({ source: 'live', upstream: primary.name, run });
  }
  if (options.between) for (const step of options.between) steps.push(step);
  for (let i = 1; i < upstreams.length; i++) {
    const u = upstreams[i]!;
    steps.push({
      source: 'failover',
      upstream: u.name,
      run: async (signal) => {
        const value = await u.run(signal);
        if (value !== undefined) failedOverTo = u.name;
        return value;
      },
    });
  }
  if (options.last) for (const step of options.last) steps.push(step);
  // fallbackChain reads only its own options (signal, stopOn, onStep).
  const { value, source } = await fallbackChain<T>(steps, options);
  const upstream = source === 'live' ? primary?.name : source === 'failover' ? failedOverTo : undefined;
  return { value, source, upstream };
}
