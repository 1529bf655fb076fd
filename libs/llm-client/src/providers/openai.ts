import OpenAI from 'openai';
import type { AdapterOptions, Completion, NormalizedRequest, ProviderAdapter, StreamPart } from './provider.js';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * Chat Completions through the openai SDK. `maxRetries: 0` matters even more than for Anthropic:
 * this SDK's Retry-After sleep ignores the abort signal, so a 429 with `retry-after: 3600` would
 * hold the call for an hour.
 */
export function openaiAdapter(options: AdapterOptions): ProviderAdapter {
  const sdk = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs,
  });
  const params = (request: NormalizedRequest, model: string) => ({
    model,
    max_completion_tokens: request.maxTokens,
    messages: [
      ...(request.system === undefined ? [] : [{ role: 'system' as const, content: request.system }]),
      ...request.messages.map((m) => ({ role: m.role, content: m.content })),
    ],
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
  });
  return {
    async complete(request, model, signal): Promise<Completion> {
      const completion = await sdk.chat.completions.create(params(request, model), { signal });
      return {
        text: completion.choices[0]?.message.content ?? '',
        model: completion.model,
        usage: {
          inputTokens: completion.usage?.prompt_tokens ?? 0,
          outputTokens: completion.usage?.completion_tokens ?? 0,
        },
        stopReason: completion.choices[0]?.finish_reason ?? undefined,
      };
    },
    async *stream(request, model, signal): AsyncIterable<StreamPart> {
      const chunks = await sdk.chat.completions.create(
        { ...params(request, model), stream: true, stream_options: { include_usage: true } },
        { signal },
      );
      let answered = model;
      let stopReason: string | undefined;
      let usage: { inputTokens: number; outputTokens: number } | undefined;
      for await (const chunk of chunks) {
        answered = chunk.model;
        const choice = chunk.choices[0];
        if (choice?.delta?.content) yield { type: 'text', text: choice.delta.content };
        if (choice?.finish_reason) stopReason = choice.finish_reason;
        if (chunk.usage) {
          usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
        }
      }
      // The SDK swallows `[DONE]` and ends a cut connection quietly. With include_usage the API
      // sends the usage chunk last, after the finish_reason chunk: both seen, the answer is whole.
      if (stopReason !== undefined && usage !== undefined) yield { type: 'end', usage, model: answered, stopReason };
    },
  };
}
