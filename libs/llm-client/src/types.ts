import type { BreakerConfig, BreakerRegistry, Logger, ValueSource } from '@gl-vcci/breaker-core';
import type { ClientStatus, KeyValueStore } from '@gl-vcci/breaker-core/client';

/** The providers this client speaks to; each has its own circuit, `llm_providers.<name>`. */
export type ProviderName = 'claude' | 'openai';

/** Where an answer came from: `live` (the first provider), `cache`, or `failover` (the other provider). */
export type LlmSource = Extract<ValueSource, 'live' | 'cache' | 'failover'>;

export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** A provider-independent request: the same one goes to the other provider on failover. */
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
  /**
   * Caches a cacheable answer even when it is not a whole one: stopped by `maxTokens` (or any
   * stop reason but a natural end) or empty. Off by default: a truncated answer served again for
   * an hour is rarely what a caller wants.
   */
  cacheIncomplete?: boolean;
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
  /** The provider's reason for ending: `end_turn`, `max_tokens`, `stop_sequence` (Anthropic); `stop`, `length`, `content_filter` (OpenAI). */
  stopReason: string | undefined;
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
  stopReason: string | undefined;
}

/** USD per million tokens. */
export interface LlmPrices {
  inputPerMillion: number;
  outputPerMillion: number;
}

export interface LlmProviderOptions {
  /** Default: `ANTHROPIC_API_KEY` / `OPENAI_API_KEY`. Never logged nor shown in an error. */
  apiKey?: string;
  /** Default: the public API (`https://api.anthropic.com`, `https://api.openai.com/v1`). */
  baseURL?: string;
  /** Model for this provider (default: config `model`, else `claude-sonnet-4-6` / `gpt-5-mini`). */
  model?: string;
  /** Prices for `greenlang_llm_cost_usd_total` (default: config `input_price_per_mtok` / `output_price_per_mtok`). */
  prices?: LlmPrices;
  /**
   * The provider asked when this one cannot answer (default: config `failover`); `false` for
   * none, whatever the file says. The provider naming a failover is tried first.
   */
  failover?: ProviderName | false;
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
  /** breaker-core's registry: circuits, config, metrics, logger and clock. */
  registry: BreakerRegistry;
  /** Parent of the client's child logger (default `registry.logger`). */
  logger?: Logger;
  /** The providers to use; at least one. Which one is tried first: the one naming a `failover`. */
  providers: Partial<Record<ProviderName, LlmProviderOptions>>;
  /** Where cacheable answers are kept (default: an in-process LocalStore of `local.maxEntries`); `false` turns caching off. */
  cache?: KeyValueStore<CachedCompletion> | false;
  /** Bounds of the default in-process cache (default 1 000 entries, no byte bound). */
  local?: { maxEntries?: number; maxBytes?: number };
  /** How long a cached answer is served (default: the first provider's config `cache_ttl`, else 3 600 000). */
  cacheTtlMs?: number;
  /** Longest wait for a cache read before it counts as a miss (default 250). */
  cacheReadTimeoutMs?: number;
  /** Deadlines of `stream()`. */
  stream?: LlmStreamOptions;
}

export interface LlmProviderStatus {
  name: ProviderName;
  model: string;
  /** The provider asked when this one cannot answer. */
  failover: ProviderName | undefined;
}

export interface LlmClientStatus extends ClientStatus {
  /** The providers in the order they are tried. */
  providers: LlmProviderStatus[];
}

export interface LlmClient {
  /** One answer: from the cache, the first provider, or the other when the first is down or refuses. */
  generate(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResult>;
  /**
   * A streamed answer. It fails over only before the first text arrives; after that an error
   * ends the stream. The answer is whole only once the provider says so.
   */
  stream(request: LlmRequest, options?: LlmCallOptions): AsyncIterable<LlmStreamEvent>;
  /** Each circuit's state, the providers in the order they are tried, and whether the client is closed. */
  status(): LlmClientStatus;
  /** Abandons calls in flight (they reject with LlmClosedError) and refuses new ones. */
  close(): Promise<void>;
}
