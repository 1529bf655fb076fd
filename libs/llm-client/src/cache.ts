import { createHash } from 'node:crypto';
import type { Clock, Logger } from '@gl-vcci/breaker-core';
import { ClientCache, type KeyValueStore } from '@gl-vcci/breaker-core/client';
import type { NormalizedRequest } from './providers/provider.js';
import type { CachedCompletion, LlmResult } from './types.js';

/** Stop reasons of an answer that ended on its own: anything else (max_tokens, length, content_filter…) is partial. */
const WHOLE = new Set(['end_turn', 'stop_sequence', 'stop']);

/**
 * The key of a cacheable request: a hash of the request as both providers receive it, and of the
 * configured models (`claude:claude-sonnet-4-6,openai:gpt-5-mini`), so an answer cached from the
 * failover serves the same request later, but never once a model has changed. The caller's
 * `cacheKey` is part of it: a namespace, not a replacement for the request.
 */
export function cacheKeyOf(request: NormalizedRequest, cacheKey: string | undefined, models: string): string {
  const normalized = JSON.stringify([
    models,
    cacheKey ?? null,
    request.system ?? null,
    request.messages.map((m) => [m.role, m.content]),
    request.maxTokens,
    request.temperature ?? null,
  ]);
  return `llm:v2:${createHash('sha256').update(normalized).digest('hex')}`;
}

/** A cached answer as a result: it cost no tokens this time. */
export function fromCache(hit: CachedCompletion): LlmResult {
  return { ...hit, usage: { inputTokens: 0, outputTokens: 0 }, source: 'cache' };
}

/** A whole answer: ended on its own, with text. Only these are cached unless the caller asks. */
export function isWhole(result: Pick<LlmResult, 'text' | 'stopReason'>): boolean {
  return result.text !== '' && result.stopReason !== undefined && WHOLE.has(result.stopReason);
}

/**
 * The response cache as the client uses it: the kit's ClientCache (a read bounded by the caller's
 * signal and `readTimeoutMs`, a store that hangs or throws is a miss; a write started after the
 * answer is handed back and only logged if it fails), holding whole answers for `ttlMs`.
 */
export class ResponseCache {
  readonly #store: ClientCache<CachedCompletion>;
  readonly #ttlMs: number;

  constructor(
    store: KeyValueStore<CachedCompletion>,
    options: { ttlMs: number; readTimeoutMs: number; clock: Clock; logger: Logger },
  ) {
    const { ttlMs, ...rest } = options;
    this.#store = new ClientCache(store, { ...rest, name: 'response cache' });
    this.#ttlMs = ttlMs;
  }

  read(key: string, signal: AbortSignal | undefined): Promise<CachedCompletion | undefined> {
    return this.#store.read(key, signal);
  }

  /** Starts the write and returns at once: a slow store never delays an answer. */
  write(key: string, result: LlmResult): void {
    const { text, provider, model, usage, stopReason } = result;
    this.#store.write(key, { text, provider, model, usage: { ...usage }, stopReason }, this.#ttlMs);
  }
}
