import { toProviderError } from './classify.js';
import type { FailoverClient, Provider } from './client.js';
import { LlmStreamTimeoutError, LlmUnavailableError } from './errors.js';
import type { CheckedRequest } from './options.js';
import type { Completion, NormalizedRequest } from './providers/provider.js';
import type { LlmStreamEvent, ProviderName } from './types.js';

/**
 * A streamed answer with failover before the first text only: once text has reached the caller,
 * another provider's answer cannot be spliced in, so a later error ends the stream. Each attempt
 * runs inside its provider's breaker for the whole stream, so the circuit records the outcome
 * when the stream ends (an error event after a 200 is a failure, like a stall past a deadline).
 */
export async function* streamFrom(
  host: FailoverClient,
  checked: CheckedRequest,
  signal: AbortSignal | undefined,
): AsyncGenerator<LlmStreamEvent> {
  const key = host.cacheKeyFor(checked.normalized, checked.cacheable, checked.cacheKey);
  if (key !== undefined) {
    const hit = await host.cacheGet(key);
    if (hit) {
      yield { type: 'text', text: hit.text };
      yield { type: 'end', result: { ...hit, usage: { inputTokens: 0, outputTokens: 0 }, source: 'cache' } };
      return;
    }
  }
  const errors: Array<{ provider: ProviderName; error: unknown }> = [];
  const providers = host.ordered;
  for (const [i, provider] of providers.entries()) {
    if (i > 0) host.failedOver(providers[i - 1]!, provider, errors.at(-1)?.error);
    const attempt = startAttempt(host, provider, checked.normalized, signal);
    let started = false;
    try {
      for await (const text of attempt.texts()) {
        started = true;
        yield { type: 'text', text };
      }
      const result = host.succeeded(provider, await attempt.done, i === 0 ? 'live' : 'failover');
      if (key !== undefined) await host.cacheSet(key, result);
      yield { type: 'end', result };
      return;
    } catch (error) {
      if (host.attemptFailed(provider, error, signal) === 'stop' || started) throw error;
      errors.push({ provider: provider.name, error });
    } finally {
      // The caller stopped reading (break, return): the upstream request goes too.
      attempt.abandon();
    }
  }
  throw new LlmUnavailableError(errors);
}

interface Attempt {
  /** Text pieces as they arrive; throws the attempt's error. */
  texts(): AsyncGenerator<string>;
  /** The whole answer, once the stream has ended. */
  done: Promise<Completion>;
  abandon(): void;
}

function startAttempt(
  host: FailoverClient,
  provider: Provider,
  request: NormalizedRequest,
  callerSignal: AbortSignal | undefined,
): Attempt {
  const { firstTokenTimeoutMs, idleTimeoutMs } = host.streamDeadlines;
  const clock = host.clock;
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  // Abandoning is the caller giving up: the breaker counts it as neither success nor failure.
  const abandoned = new AbortController();
  const signal = callerSignal ? AbortSignal.any([callerSignal, abandoned.signal]) : abandoned.signal;

  const done = provider.breaker.execute(
    async (breakerSignal) => {
      const stalled = new AbortController();
      const upstream = AbortSignal.any([breakerSignal, stalled.signal]);
      const arm = (phase: 'first_token' | 'idle', ms: number) =>
        clock.setTimeout(() => stalled.abort(new LlmStreamTimeoutError(provider.name, phase, ms)), ms);
      let timer = arm('first_token', firstTokenTimeoutMs);
      let text = '';
      let model = provider.model;
      let usage = { inputTokens: 0, outputTokens: 0 };
      try {
        for await (const part of provider.adapter.stream(request, provider.model, upstream)) {
          if (part.type === 'usage') {
            usage = part.usage;
            model = part.model;
            continue;
          }
          clock.clearTimeout(timer);
          timer = arm('idle', idleTimeoutMs);
          text += part.text;
          queue.push(part.text);
          wake?.();
        }
        // The SDKs end an aborted stream quietly, as if it were complete.
        if (upstream.aborted) throw upstream.reason;
      } catch (error) {
        if (upstream.aborted) throw upstream.reason;
        throw toProviderError(provider.name, error);
      } finally {
        clock.clearTimeout(timer);
      }
      return { text, model, usage };
    },
    { signal },
  );
  const settled = done.then(
    () => undefined,
    () => undefined,
  );
  void settled.then(() => {
    ended = true;
    wake?.();
  });

  return {
    async *texts() {
      while (true) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (ended) {
          await done; // rethrows the attempt's error
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
    done,
    abandon: () => abandoned.abort(),
  };
}
