import Anthropic from '@anthropic-ai/sdk';
import type { AdapterOptions, Completion, NormalizedRequest, ProviderAdapter, StreamPart } from './provider.js';

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

/**
 * The Messages API through @anthropic-ai/sdk. `maxRetries: 0`: otherwise the SDK retries 429 and
 * 5xx itself and sleeps as long as any Retry-After says, unseen by the breaker. An explicit
 * `baseURL` and `apiKey` keep the SDK off its credential chain (profiles, OIDC), and an explicit
 * `timeout` skips its local "streaming is required" refusal.
 */
export function anthropicAdapter(options: AdapterOptions): ProviderAdapter {
  const sdk = new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    maxRetries: 0,
    timeout: options.timeoutMs,
  });
  const params = (request: NormalizedRequest, model: string) => ({
    model,
    max_tokens: request.maxTokens,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    ...(request.system === undefined ? {} : { system: request.system }),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
  });
  return {
    async complete(request, model, signal): Promise<Completion> {
      const message = await sdk.messages.create(params(request, model), { signal });
      let text = '';
      for (const block of message.content) if (block.type === 'text') text += block.text;
      return {
        text,
        model: message.model,
        usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
        stopReason: message.stop_reason ?? undefined,
      };
    },
    async *stream(request, model, signal): AsyncIterable<StreamPart> {
      const events = await sdk.messages.create({ ...params(request, model), stream: true }, { signal });
      let answered = model;
      let inputTokens = 0;
      let outputTokens = 0;
      let stopReason: string | undefined;
      let stopped = false;
      for await (const event of events) {
        if (event.type === 'message_start') {
          answered = event.message.model;
          inputTokens = event.message.usage.input_tokens;
          outputTokens = event.message.usage.output_tokens;
        } else if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
          yield { type: 'text', text: event.delta.text };
        } else if (event.type === 'message_delta') {
          // Cumulative: the final count of output tokens.
          outputTokens = event.usage.output_tokens;
          stopReason = event.delta.stop_reason ?? stopReason;
        } else if (event.type === 'message_stop') {
          stopped = true;
        }
      }
      // `message_stop` is the one sign the answer is whole: a cut connection ends the SDK's iteration quietly.
      if (stopped) yield { type: 'end', usage: { inputTokens, outputTokens }, model: answered, stopReason };
    },
  };
}
