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
}

/** What a provider's stream yields: text as it comes, and its usage once known. */
export type StreamPart = { type: 'text'; text: string } | { type: 'usage'; usage: LlmUsage; model: string };

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
