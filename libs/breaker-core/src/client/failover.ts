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
  let upstream: string | undefined;
  const asked = (u: Upstream<T>, source: ValueSource): FallbackStep<T> => ({
    source,
    upstream: u.name,
    run: async (signal) => {
      const value = await u.run(signal);
      if (value !== undefined) upstream = u.name;
      return value;
    },
  });
  // Built in place, without rest or spread copies: this runs on every call of every client.
  const steps: Array<FallbackStep<T>> = [];
  if (upstreams.length > 0) steps.push(asked(upstreams[0]!, 'live'));
  if (options.between) for (const step of options.between) steps.push(step);
  for (let i = 1; i < upstreams.length; i++) steps.push(asked(upstreams[i]!, 'failover'));
  if (options.last) for (const step of options.last) steps.push(step);
  // fallbackChain reads only its own options (signal, stopOn, onStep).
  const { value, source } = await fallbackChain<T>(steps, options);
  return { value, source, upstream: source === 'live' || source === 'failover' ? upstream : undefined };
}
