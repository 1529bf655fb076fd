import { type CircuitBreaker, CircuitOpenError, errorMessage, TimeoutError } from '@gl-vcci/breaker-core';
import { cacheKeyOf, LruResponseCache } from './cache.js';
import { toProviderError } from './classify.js';
import { LlmProviderError, LlmRequestRejectedError, LlmStreamTimeoutError, LlmUnavailableError } from './errors.js';
import { createLlmMetrics, type LlmMetrics, type RequestOutcome } from './metrics.js';
import { checkRequest, type ResolvedOptions, type ResolvedProvider, resolveOptions } from './options.js';
import { anthropicAdapter } from './providers/anthropic.js';
import { openaiAdapter } from './providers/openai.js';
import type { Completion, NormalizedRequest, ProviderAdapter } from './providers/provider.js';
import { streamFrom } from './stream.js';
import type {
  CachedCompletion,
  LlmCallOptions,
  LlmClient,
  LlmClientOptions,
  LlmLogger,
  LlmProviderStatus,
  LlmRequest,
  LlmResponseCache,
  LlmResult,
  LlmStreamEvent,
} from './types.js';

/** A provider as the client uses it: its settings, its SDK and its circuit. */
export interface Provider extends ResolvedProvider {
  adapter: ProviderAdapter;
  breaker: CircuitBreaker;
}

/**
 * Anthropic and OpenAI behind one circuit each (`llm_providers.claude`, `llm_providers.openai`),
 * the config's `primary: true` first, the other on failover, with a response cache in front.
 * Options are checked here, once; a bad one throws breaker-core's ConfigError naming the field.
 */
export function createLlmClient(options: LlmClientOptions): LlmClient {
  const o = resolveOptions(options);
  const logger = o.logger.child({ client: 'llm' });
  // Before any SDK is built: a second client with other breaker settings is refused here.
  const providers: Provider[] = o.providers.map((p) => ({
    ...p,
    breaker: o.registry.breaker(p.circuit, p.breakerOverrides),
    adapter: (p.name === 'claude' ? anthropicAdapter : openaiAdapter)({
      apiKey: p.apiKey,
      baseURL: p.baseURL,
      timeoutMs: p.sdkTimeoutMs,
    }),
  }));
  const metrics = createLlmMetrics(o.registry.metricsRegistry, providers);
  const cache = o.cache === false ? undefined : (o.cache ?? new LruResponseCache(o.cacheMaxEntries, o.registry.clock));
  return new FailoverClient(o, providers, metrics, cache, logger);
}

/** What a failed attempt means for the request: pass it on to the next provider, or stop. */
export type AttemptVerdict = 'next' | 'stop';

export class FailoverClient implements LlmClient {
  readonly #o: ResolvedOptions;
  readonly #providers: Provider[];
  readonly #metrics: LlmMetrics;
  readonly #cache: LlmResponseCache | undefined;
  readonly #logger: LlmLogger;

  constructor(
    o: ResolvedOptions,
    providers: Provider[],
    metrics: LlmMetrics,
    cache: LlmResponseCache | undefined,
    logger: LlmLogger,
  ) {
    this.#o = o;
    this.#providers = providers;
    this.#metrics = metrics;
    this.#cache = cache;
    this.#logger = logger;
  }

  async generate(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResult> {
    const checked = checkRequest('generate', request);
    const signal = options?.signal;
    const key = this.cacheKeyFor(checked.normalized, checked.cacheable, checked.cacheKey);
    if (key !== undefined) {
      const hit = await this.#cacheGet(key);
      if (hit) return { ...hit, usage: { inputTokens: 0, outputTokens: 0 }, source: 'cache' };
    }
    const errors: Array<{ provider: Provider['name']; error: unknown }> = [];
    for (const [i, provider] of this.#providers.entries()) {
      if (i > 0) this.#failedOver(this.#providers[i - 1]!, provider, errors.at(-1)?.error);
      try {
        const completion = await provider.breaker.execute(
          (s) => provider.adapter.complete(checked.normalized, provider.model, s).catch(rethrowFor(provider)),
          { signal },
        );
        const result = this.succeeded(provider, completion, i === 0 ? 'live' : 'failover');
        if (key !== undefined) await this.#cacheSet(key, result);
        return result;
      } catch (error) {
        if (this.attemptFailed(provider, error, signal) === 'stop') throw error;
        errors.push({ provider: provider.name, error });
      }
    }
    throw new LlmUnavailableError(errors);
  }

  stream(request: LlmRequest, options?: LlmCallOptions): AsyncIterable<LlmStreamEvent> {
    const checked = checkRequest('stream', request);
    return streamFrom(this, checked, options?.signal);
  }

  providers(): LlmProviderStatus[] {
    return this.#providers.map((p) => ({ name: p.name, model: p.model, primary: p.primary, circuit: p.breaker.state }));
  }

  // The pieces below are shared with stream.ts.

  get ordered(): readonly Provider[] {
    return this.#providers;
  }

  get streamDeadlines(): { firstTokenTimeoutMs: number; idleTimeoutMs: number } {
    return { firstTokenTimeoutMs: this.#o.firstTokenTimeoutMs, idleTimeoutMs: this.#o.idleTimeoutMs };
  }

  get clock() {
    return this.#o.registry.clock;
  }

  cacheKeyFor(normalized: NormalizedRequest, cacheable: boolean, cacheKey: string | undefined): string | undefined {
    return cacheable && this.#cache ? cacheKeyOf(normalized, cacheKey) : undefined;
  }

  cacheGet(key: string) {
    return this.#cacheGet(key);
  }

  cacheSet(key: string, result: LlmResult) {
    return this.#cacheSet(key, result);
  }

  failedOver(from: Provider, to: Provider, error: unknown): void {
    this.#failedOver(from, to, error);
  }

  /** Records a live answer: the request outcome, its tokens and their cost. */
  succeeded(provider: Provider, completion: Completion, source: 'live' | 'failover'): LlmResult {
    this.#metrics.request(provider.name, 'success');
    this.#metrics.spent(provider, completion.usage);
    return { text: completion.text, provider: provider.name, model: completion.model, usage: completion.usage, source };
  }

  /** Records and logs a failed attempt; 'stop' when the error must reach the caller as it is. */
  attemptFailed(provider: Provider, error: unknown, signal: AbortSignal | undefined): AttemptVerdict {
    const outcome = outcomeOf(error, signal);
    this.#metrics.request(provider.name, outcome);
    const fields = { provider: provider.name, circuit: provider.circuit, error: errorClass(error) };
    if (outcome === 'cancelled' || outcome === 'rejected') return 'stop';
    if (error instanceof LlmProviderError) {
      const detail = { ...fields, status: error.status, requestId: error.requestId };
      if (error.kind === 'auth') {
        this.#logger.error(detail, 'provider refused the API key or its permissions: check the key; failing over');
      } else if (error.kind === 'quota') {
        this.#logger.error(
          detail,
          'billing problem: the provider account is out of quota; circuit held open as long as allowed',
        );
      }
    }
    return 'next';
  }

  async #cacheGet(key: string): Promise<CachedCompletion | undefined> {
    try {
      return await this.#cache?.get(key);
    } catch (error) {
      this.#logger.warn(
        { error: errorClass(error), reason: errorMessage(error) },
        'response cache read failed: a miss',
      );
      return undefined;
    }
  }

  async #cacheSet(key: string, result: LlmResult): Promise<void> {
    const { text, provider, model, usage } = result;
    try {
      await this.#cache?.set(key, { text, provider, model, usage }, this.#o.cacheTtlMs);
    } catch (error) {
      this.#logger.warn({ error: errorClass(error), reason: errorMessage(error) }, 'response cache write failed');
    }
  }

  #failedOver(from: Provider, to: Provider, error: unknown): void {
    this.#metrics.failover(from.name, to.name);
    this.#logger.warn(
      { from: from.name, to: to.name, error: errorClass(error), reason: errorMessage(error) },
      'failing over to the next LLM provider',
    );
  }
}

/** Inside the breaker: the SDK's error becomes ours, with the `retryAfterMs` the breaker reads. */
export function rethrowFor(provider: Provider) {
  return (error: unknown): never => {
    throw toProviderError(provider.name, error);
  };
}

function outcomeOf(error: unknown, signal: AbortSignal | undefined): RequestOutcome {
  if (signal?.aborted) return 'cancelled';
  if (error instanceof CircuitOpenError) return 'circuit_open';
  if (error instanceof TimeoutError || error instanceof LlmStreamTimeoutError) return 'timeout';
  if (error instanceof LlmRequestRejectedError) return 'rejected';
  if (error instanceof LlmProviderError) {
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

/** Logged instead of the error object: the class says enough, and nothing of a request (or a key) rides along. */
function errorClass(error: unknown): string {
  return error instanceof Error ? error.constructor.name : typeof error;
}
