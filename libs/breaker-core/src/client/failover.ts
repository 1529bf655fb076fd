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
  const { between = [], last = [], ...chain } = options;
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
  const [primary, ...others] = upstreams;
  const steps = [
    ...(primary ? [asked(primary, 'live')] : []),
    ...between,
    ...others.map((u) => asked(u, 'failover')),
    ...last,
  ];
  const { value, source } = await fallbackChain<T>(steps, chain);
  return { value, source, upstream: source === 'live' || source === 'failover' ? upstream : undefined };
}
