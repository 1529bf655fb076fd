import type { Clock } from '@gl-vcci/breaker-core';
import type { Attempts, Provider } from './attempts.js';
import { fromCache, isWhole, type ResponseCache } from './cache.js';
import { toProviderError } from './classify.js';
import { isLlmClosedError, LlmStreamIncompleteError, LlmStreamTimeoutError } from './errors.js';
import type { NormalizedRequest, StreamPart } from './providers/provider.js';
import type { LlmStreamEvent } from './types.js';

/** What a stream needs of the client. */
export interface StreamContext {
  attempts: Attempts;
  cache: ResponseCache | undefined;
  /** The cache key, when the request is cacheable. */
  key: string | undefined;
  /** Cache the answer even when it is not whole (`cacheIncomplete`). */
  keep: boolean;
  deadlines: { firstTokenTimeoutMs: number; idleTimeoutMs: number };
  clock: Clock;
}

/** A provider's stream that has produced its first part, and the means to read on. */
interface OpenedStream {
  first: StreamPart;
  /** The next part, undefined when the stream ended without one; bounded by the idle deadline. */
  next(): Promise<StreamPart | undefined>;
  /** Ends the upstream request (the reader left, or the stream is done). */
  release(): void;
}

/**
 * A streamed answer, with failover before the first text only: once text has reached the caller,
 * another provider's answer cannot be spliced in, so a later error ends the stream.
 *
 * The provider's circuit sees the opening of the stream as the call: from the request to the
 * first text, under the circuit's call deadline and the first-token deadline. After that the
 * stream is bounded by the idle deadline alone (a long answer that keeps flowing is never cut by
 * `call_timeout`), and a stream that then breaks (cut short, an error event, idle too long) is
 * recorded as one more failure of the circuit. An answer is whole only once the provider says so.
 */
export async function* streamFrom(
  ctx: StreamContext,
  request: NormalizedRequest,
  signal: AbortSignal,
): AsyncGenerator<LlmStreamEvent> {
  const { key, cache } = ctx;
  if (key !== undefined && cache) {
    const hit = await cache.read(key, signal);
    if (hit) {
      yield { type: 'text', text: hit.text };
      yield { type: 'end', result: fromCache(hit) };
      return;
    }
  }
  const { value: opened, source, provider } = await ctx.attempts.first((p, s) => open(ctx, p, request, s), signal);
  let text = '';
  let settled = false;
  try {
    let part = opened.first;
    while (part.type === 'text') {
      text += part.text;
      yield { type: 'text', text: part.text };
      const next = await opened.next();
      if (next === undefined) throw new LlmStreamIncompleteError(provider.name, text.length);
      part = next;
    }
    const { model, usage, stopReason } = part;
    const result = ctx.attempts.succeeded(provider, { text, model, usage, stopReason }, source);
    if (key !== undefined && (ctx.keep || isWhole(result))) cache?.write(key, result);
    settled = true;
    yield { type: 'end', result };
  } catch (error) {
    settled = true;
    ctx.attempts.failed(provider, error, signal);
    if (!signal.aborted && !isLlmClosedError(error)) recordFailure(provider, error);
    throw error;
  } finally {
    // The reader stopped early (break, return): neither a success nor the provider's failure.
    if (!settled) ctx.attempts.abandoned(provider);
    opened.release();
  }
}

/** Opens a stream on one provider, inside its breaker, up to its first part. */
function open(ctx: StreamContext, provider: Provider, request: NormalizedRequest, caller: AbortSignal) {
  const { clock, deadlines } = ctx;
  // Aborted by the stream's own deadlines, and when the reader leaves.
  const stalled = new AbortController();
  let timer: unknown;
  const stop = () => clock.clearTimeout(timer);
  const arm = (phase: 'first_token' | 'idle', ms: number) => {
    stop();
    timer = clock.setTimeout(() => stalled.abort(new LlmStreamTimeoutError(provider.name, phase, ms)), ms);
  };
  return provider.breaker.execute(
    async (deadline): Promise<OpenedStream> => {
      const upstream = AbortSignal.any([caller, stalled.signal, deadline]);
      // No deadline outlives the request, even before the SDK has noticed the abort.
      upstream.addEventListener('abort', stop, { once: true });
      const parts = provider.adapter.stream(request, provider.model, upstream)[Symbol.asyncIterator]();
      const next = async (phase: 'first_token' | 'idle', ms: number): Promise<StreamPart | undefined> => {
        arm(phase, ms);
        try {
          const read = await parts.next();
          // The SDKs end an aborted stream quietly, as if it were complete.
          if (upstream.aborted) throw upstream.reason;
          return read.done ? undefined : read.value;
        } catch (error) {
          if (upstream.aborted) throw upstream.reason;
          throw toProviderError(provider.name, error, [provider.apiKey]);
        } finally {
          stop();
        }
      };
      const first = await next('first_token', deadlines.firstTokenTimeoutMs);
      if (first === undefined) throw new LlmStreamIncompleteError(provider.name, 0);
      return {
        first,
        next: () => next('idle', deadlines.idleTimeoutMs),
        release: () => {
          stop();
          stalled.abort(new Error('stream released'));
        },
      };
    },
    { signal: caller },
  );
}

/**
 * A stream that broke after its opening was counted a success by its circuit: the break is
 * recorded as a failure of its own (unless the circuit has opened meanwhile and would refuse it).
 */
function recordFailure(provider: Provider, error: unknown): void {
  const state = provider.breaker.state;
  if (state === 'open' || state === 'forced_open') return;
  provider.breaker.execute(() => Promise.reject(error)).catch(() => {});
}
