import { closingController, LocalStore, raceAbort, SingleFlight } from '@gl-vcci/breaker-core/client';
import { Attempts, type Provider } from './attempts.js';
import { cacheKeyOf, fromCache, isWhole, ResponseCache } from './cache.js';
import { classifyLlmError, toProviderError } from './classify.js';
import { LlmClosedError } from './errors.js';
import { createLlmMetrics } from './metrics.js';
import { type CheckedRequest, checkRequest, DEFAULTS, type ResolvedOptions, resolveOptions } from './options.js';
import { anthropicAdapter } from './providers/anthropic.js';
import { openaiAdapter } from './providers/openai.js';
import { type StreamContext, streamFrom } from './stream.js';
import type {
  CachedCompletion,
  LlmCallOptions,
  LlmClient,
  LlmClientOptions,
  LlmClientStatus,
  LlmRequest,
  LlmResult,
  LlmStreamEvent,
} from './types.js';

/**
 * Anthropic and OpenAI behind one circuit each (`llm_providers.claude`, `llm_providers.openai`):
 * the provider naming a `failover` first, the other when it cannot answer, with a response cache
 * in front. Options are checked here, once; a bad one throws breaker-core's ConfigError naming it.
 */
export function createLlmClient(options: LlmClientOptions): LlmClient {
  const o = resolveOptions(options);
  const logger = o.logger.child({ client: 'llm' });
  // Before any SDK is built: a second client with other breaker settings is refused here.
  const providers: Provider[] = o.providers.map((p) => {
    const breaker = o.registry.breaker(p.circuit, p.breakerOverrides, {
      classify: classifyLlmError,
      callTimeoutMs: DEFAULTS.callTimeoutMs,
    });
    const make = p.name === 'claude' ? anthropicAdapter : openaiAdapter;
    // Past the breaker's deadline, so the breaker's fires first and is counted as a timeout.
    const timeoutMs = (breaker.config.callTimeoutMs ?? DEFAULTS.callTimeoutMs) + 1_000;
    return { ...p, breaker, adapter: make({ apiKey: p.apiKey, baseURL: p.baseURL, timeoutMs }) };
  });
  const metrics = createLlmMetrics(o.registry.metricsRegistry, providers);
  return new Client(o, providers, new Attempts(providers, metrics, logger), logger);
}

class Client implements LlmClient {
  readonly #o: ResolvedOptions;
  readonly #providers: readonly Provider[];
  readonly #attempts: Attempts;
  readonly #local: LocalStore<CachedCompletion> | undefined;
  readonly #cache: ResponseCache | undefined;
  readonly #models: string;
  readonly #flight = new SingleFlight<LlmResult>();
  /** Aborted by close(): every call's signal follows it, so nothing outlives the client. */
  readonly #closing = closingController();

  constructor(
    o: ResolvedOptions,
    providers: readonly Provider[],
    attempts: Attempts,
    logger: ResolvedOptions['logger'],
  ) {
    this.#o = o;
    this.#providers = providers;
    this.#attempts = attempts;
    this.#models = providers.map((p) => `${p.name}:${p.model}`).join(',');
    if (o.cache === undefined) {
      const { maxEntries, maxBytes } = o.local;
      this.#local = new LocalStore<CachedCompletion>({
        maxEntries,
        clock: o.registry.clock,
        ...(maxBytes ? { maxBytes } : {}),
      });
    }
    const store = o.cache === false ? undefined : (o.cache ?? this.#local);
    this.#cache =
      store &&
      new ResponseCache(store, {
        ttlMs: o.cacheTtlMs,
        readTimeoutMs: o.cacheReadTimeoutMs,
        clock: o.registry.clock,
        logger,
      });
  }

  async generate(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResult> {
    const checked = checkRequest('generate', request, options);
    const signal = this.#signal(options?.signal);
    const key = this.#keyOf(checked);
    if (key === undefined) return this.#live(checked, signal, undefined, false);
    const hit = await this.#cache!.read(key, signal);
    if (hit) return fromCache(hit);
    // Identical cacheable requests in flight share one upstream call, which runs to its own
    // deadline (or close()) whatever one caller does; each caller stops waiting on its own signal.
    const keep = options?.cacheIncomplete === true;
    const shared = this.#flight.run(`${key}:${keep}`, () => this.#live(checked, this.#closing.signal, key, keep));
    const result = await raceAbort(shared, signal);
    return { ...result, usage: { ...result.usage } };
  }

  stream(request: LlmRequest, options?: LlmCallOptions): AsyncIterable<LlmStreamEvent> {
    const checked = checkRequest('stream', request, options);
    const signal = this.#signal(options?.signal);
    const context: StreamContext = {
      attempts: this.#attempts,
      cache: this.#cache,
      key: this.#keyOf(checked),
      keep: options?.cacheIncomplete === true,
      deadlines: { firstTokenTimeoutMs: this.#o.firstTokenTimeoutMs, idleTimeoutMs: this.#o.idleTimeoutMs },
      clock: this.#o.registry.clock,
    };
    return streamFrom(context, checked.normalized, signal);
  }

  status(): LlmClientStatus {
    return {
      circuits: Object.fromEntries(this.#providers.map((p) => [p.circuit, p.breaker.state])),
      closed: this.#closing.signal.aborted,
      providers: this.#providers.map((p) => ({ name: p.name, model: p.model, failover: p.failover })),
    };
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new LlmClosedError());
    this.#local?.clear();
  }

  async #live(
    checked: CheckedRequest,
    signal: AbortSignal,
    key: string | undefined,
    keep: boolean,
  ): Promise<LlmResult> {
    const { value, source, provider } = await this.#attempts.first(
      (p, s) =>
        p.breaker.execute(
          (deadline) =>
            p.adapter.complete(checked.normalized, p.model, deadline).catch((error: unknown) => {
              throw toProviderError(p.name, error, [p.apiKey]);
            }),
          { signal: s },
        ),
      signal,
    );
    const result = this.#attempts.succeeded(provider, value, source);
    // After the answer is handed back: a slow store never delays it.
    if (key !== undefined && (keep || isWhole(result))) this.#cache!.write(key, result);
    return result;
  }

  #keyOf(checked: CheckedRequest): string | undefined {
    return checked.cacheable && this.#cache
      ? cacheKeyOf(checked.normalized, checked.cacheKey, this.#models)
      : undefined;
  }

  /** The caller's signal joined to close(); throws LlmClosedError once closed. */
  #signal(caller: AbortSignal | undefined): AbortSignal {
    if (this.#closing.signal.aborted) throw new LlmClosedError();
    return caller ? AbortSignal.any([caller, this.#closing.signal]) : this.#closing.signal;
  }
}
