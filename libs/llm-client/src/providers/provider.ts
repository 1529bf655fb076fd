import type { LlmMessage, LlmUsage } from '../types.js';

/** The request as both providers receive it: `prompt` already turned into a user message. */
export interface NormalizedRequest {
  messages: LlmMessage[];
  system?: string;
  maxTokens: number;
  temperature?: number;
}

export interface Completion {
  text: string;
  /** The model the provider says answered. */
  model: string;
  usage: LlmUsage;
  /** The provider's own word for why the answer ended (`end_turn`, `max_tokens`, `stop`, `length`…). */
  stopReason: string | undefined;
}

/**
 * What a provider's stream yields: text as it comes, then `end` once the provider has said the
 * answer is complete (Anthropic's `message_stop`; OpenAI's `finish_reason` chunk and the usage
 * chunk sent last). A stream that stops without `end` was cut short.
 */
export type StreamPart =
  | { type: 'text'; text: string }
  | { type: 'end'; usage: LlmUsage; model: string; stopReason: string | undefined };

/** One upstream SDK, its retries off: it throws the SDK's own errors, which classify.ts reads. */
export interface ProviderAdapter {
  complete(request: NormalizedRequest, model: string, signal: AbortSignal): Promise<Completion>;
  stream(request: NormalizedRequest, model: string, signal: AbortSignal): AsyncIterable<StreamPart>;
}

export interface AdapterOptions {
  apiKey: string;
  baseURL: string;
  /** The SDK's own per-attempt timeout: set explicitly, at or above the breaker's deadline. */
  timeoutMs: number;
}
