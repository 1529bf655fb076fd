import type { BreakerConfig, BreakerRegistry, CircuitState } from '@gl-vcci/breaker-core';

/** The logger type of breaker-core (pino), so this package needs no logging dependency of its own. */
export type LlmLogger = BreakerRegistry['logger'];

/** The providers this client speaks to; each has its own circuit, `llm_providers.<name>`. */
export type ProviderName = 'claude' | 'openai';

/** Where an answer came from: the primary, the response cache, or the secondary after the primary failed or refused. */
export type LlmSource = 'live' | 'cache' | 'failover';

export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** A provider-independent request: the same one goes to the secondary on failover. */
export interface LlmRequest {
  /** A single user turn; give either `prompt` or `messages`. */
  prompt?: string;
  /** The conversation, starting with a user turn. */
  messages?: readonly LlmMessage[];
  system?: string;
  /** Upper bound of the answer's length, in tokens. */
  maxTokens: number;
  /** 0 to 1 (the range both providers accept). `0` makes the answer cacheable. */
  temperature?: number;
  /** Makes the answer cacheable whatever the temperature; part of the cache key. */
  cacheKey?: string;
}

export interface LlmCallOptions {
  /** Aborts the call: it rejects with the signal's reason, never fails over and never trips a circuit. */
  signal?: AbortSignal;
}

export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface LlmResult {
  text: string;
  provider: ProviderName;
  model: string;
  /** Tokens this call spent: zero for a cache hit. */
  usage: LlmUsage;
  source: LlmSource;
}

/** One piece of a streamed answer: text as it arrives, then one `end` with the whole result. */
export type LlmStreamEvent = { type: 'text'; text: string } | { type: 'end'; result: LlmResult };

/** What the response cache holds for a request. */
export interface CachedCompletion {
  text: string;
  provider: ProviderName;
  model: string;
  usage: LlmUsage;
}

/**
 * A store for answers, the shape factor-client's FactorCache has, so a cache-client adapter fits.
 * `get` resolves `undefined` on a miss. A store that throws is logged and treated as a miss.
 */
export interface LlmResponseCache<T = CachedCompletion> {
  get(key: string): Promise<T | undefined>;
  set(key: string, value: T, ttlMs: number): Promise<void>;
}

/** USD per million tokens. */
export interface LlmPrices {
  inputPerMillion: number;
  outputPerMillion: number;
}

export interface LlmProviderOptions {
  /** Default: `ANTHROPIC_API_KEY` / `OPENAI_API_KEY`. Never logged. */
  apiKey?: string;
  /** Default: the public API (`https://api.anthropic.com`, `https://api.openai.com/v1`). */
  baseURL?: string;
  /** Model for this provider (default: config `model`, else `claude-sonnet-4-6` / `gpt-5-mini`). */
  model?: string;
  /** Prices for `greenlang_llm_cost_usd_total` (default: config `input_price_per_mtok` / `output_price_per_mtok`). */
  prices?: LlmPrices;
  /** Breaker settings over the config file's (`name` and `classify` are the client's). */
  breaker?: Partial<Omit<BreakerConfig, 'name' | 'classify'>>;
}

export interface LlmStreamOptions {
  /** Time from the request to the first text before the stream is abandoned (and fails over) (default 20 000). */
  firstTokenTimeoutMs?: number;
  /** Longest silence between two pieces of text once the answer has started (default 30 000). */
  idleTimeoutMs?: number;
}

export interface LlmClientOptions {
  /** The providers to use; at least one. Which one is primary is the config's `primary: true`. */
  providers: Partial<Record<ProviderName, LlmProviderOptions>>;
  /** breaker-core's registry: circuits, config, metrics, logger and clock. */
  registry: BreakerRegistry;
  /** Where cacheable answers are kept (default: in-process LRU of `cacheMaxEntries`); `false` turns caching off. */
  cache?: LlmResponseCache | false;
  /** How long a cached answer is served (default: the primary's config `cache_ttl`, else 3 600 000). */
  cacheTtlMs?: number;
  /** Size of the default in-process cache (default 1 000). */
  cacheMaxEntries?: number;
  /** Deadlines of `stream()`. */
  stream?: LlmStreamOptions;
  /** Parent of the client's child logger (default `registry.logger`). */
  logger?: LlmLogger;
}

export interface LlmProviderStatus {
  name: ProviderName;
  model: string;
  primary: boolean;
  circuit: CircuitState;
}

export interface LlmClient {
  /** One answer: from the cache, the primary, or the secondary when the primary is down or refuses. */
  generate(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResult>;
  /**
   * A streamed answer. It fails over only before the first text arrives; after that an error
   * ends the stream. The circuit records the outcome when the stream ends.
   */
  stream(request: LlmRequest, options?: LlmCallOptions): AsyncIterable<LlmStreamEvent>;
  /** The providers in the order they are tried, with their circuit state. */
  providers(): LlmProviderStatus[];
}
