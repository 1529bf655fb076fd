import {
  type CircuitBreaker,
  isCircuitOpenError,
  isFallbackExhaustedError,
  isTimeoutError,
  type Logger,
} from '@gl-vcci/breaker-core';
import { failover, loggedError } from '@gl-vcci/breaker-core/client';
import {
  isLlmClosedError,
  isLlmProviderError,
  isLlmRequestError,
  isLlmStreamIncompleteError,
  isLlmStreamTimeoutError,
  LlmRequestError,
  LlmUnavailableError,
} from './errors.js';
import type { LlmMetrics, RequestOutcome } from './metrics.js';
import type { ResolvedProvider } from './options.js';
import type { Completion, ProviderAdapter } from './providers/provider.js';
import type { LlmResult, LlmSource, ProviderName } from './types.js';

/** A provider as the client uses it: its settings, its SDK and its circuit. */
export interface Provider extends ResolvedProvider {
  adapter: ProviderAdapter;
  breaker: CircuitBreaker;
}

/**
 * The bookkeeping of asking providers, shared by `generate` and `stream`: the order they are
 * asked in (through breaker-core's `failover`), and what each attempt's outcome means for the
 * metrics, the logs and the caller.
 */
export class Attempts {
  readonly #providers: readonly Provider[];
  readonly #metrics: LlmMetrics;
  readonly #logger: Logger;

  constructor(providers: readonly Provider[], metrics: LlmMetrics, logger: Logger) {
    this.#providers = providers;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /**
   * The first provider's answer, else its failover's. `ask` runs one attempt (inside the
   * provider's breaker). A caller's abort and a request the provider refused (LlmRequestError)
   * stop at once; when every provider fails, LlmUnavailableError whose cause names each.
   */
  async first<T>(
    ask: (provider: Provider, signal: AbortSignal) => Promise<T>,
    signal: AbortSignal,
  ): Promise<{ value: T; source: LlmSource; provider: Provider }> {
    const failed: Array<{ provider: ProviderName; error: unknown }> = [];
    const upstreams = this.#providers.map((provider, i) => ({
      name: provider.name,
      run: async (s: AbortSignal) => {
        const previous = this.#providers[i - 1];
        if (previous) this.#failedOver(previous, provider, failed.at(-1)?.error);
        try {
          return { provider, value: await ask(provider, s) };
        } catch (error) {
          this.failed(provider, error, signal);
          // A refusal by the failover says nothing of the outage that sent the request there: name it.
          if (isLlmRequestError(error) && failed.length > 0) {
            throw new LlmRequestError(error.provider, error.status, error.requestId, error.cause, failed);
          }
          failed.push({ provider: provider.name, error });
          throw error;
        }
      },
    }));
    try {
      const answer = await failover(upstreams, { signal, stopOn: isLlmRequestError });
      return { value: answer.value.value, provider: answer.value.provider, source: answer.source as LlmSource };
    } catch (error) {
      if (isFallbackExhaustedError(error) && !signal.aborted) throw new LlmUnavailableError(error);
      throw error;
    }
  }

  /** Records a live answer: the request outcome, its tokens and their cost. */
  succeeded(provider: Provider, completion: Completion, source: LlmSource): LlmResult {
    this.#metrics.request(provider.name, 'success');
    this.#metrics.spent(provider, completion.usage);
    const { text, model, usage, stopReason } = completion;
    return { text, provider: provider.name, model, usage, stopReason, source };
  }

  /** Records and logs a failed attempt (refused credentials and billing problems at error level). */
  failed(provider: Provider, error: unknown, signal: AbortSignal): void {
    this.#metrics.request(provider.name, outcomeOf(error, signal));
    if (!isLlmProviderError(error)) return;
    const fields = {
      provider: provider.name,
      circuit: provider.circuit,
      status: error.status,
      requestId: error.requestId,
    };
    const http = error.status === undefined ? '' : ` (HTTP ${error.status})`;
    if (error.kind === 'auth') {
      this.#logger.error(
        fields,
        `credentials refused by ${provider.name}${http}: check the API key and its permissions`,
      );
    } else if (error.kind === 'quota') {
      this.#logger.error(fields, `billing problem: the ${provider.name} account is out of quota${http}`);
    }
  }

  /** Records a stream its reader left before the end. */
  abandoned(provider: Provider): void {
    this.#metrics.request(provider.name, 'cancelled');
  }

  #failedOver(from: Provider, to: Provider, error: unknown): void {
    this.#metrics.failover(from.name, to.name);
    this.#logger.warn(
      { from: from.name, to: to.name, error: loggedError(error) },
      'failing over to the next LLM provider',
    );
  }
}

function outcomeOf(error: unknown, signal: AbortSignal): RequestOutcome {
  if (signal.aborted || isLlmClosedError(error)) return 'cancelled';
  if (isCircuitOpenError(error)) return 'circuit_open';
  if (isTimeoutError(error) || isLlmStreamTimeoutError(error)) return 'timeout';
  if (isLlmStreamIncompleteError(error)) return 'incomplete';
  if (isLlmRequestError(error)) return 'rejected';
  if (isLlmProviderError(error)) {
    switch (error.kind) {
      case 'rate_limited':
        return 'rate_limited';
      case 'quota':
        return 'quota_exceeded';
      case 'auth':
        return 'auth_error';
      case 'cancelled':
        return 'cancelled';
      case 'unavailable':
        return 'failure';
    }
  }
  return 'failure';
}
