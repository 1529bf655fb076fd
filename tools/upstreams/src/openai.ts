import type { ServerResponse } from 'node:http';
import {
  type FailureMode,
  type HttpSimulator,
  json,
  type SimulatedRequest,
  startHttpSimulator,
} from './http-simulator.js';

export const OPENAI_ROUTE = 'POST /v1/chat/completions';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/**
 * What a streamed answer does after its first content chunk: normally, stalled, with an error
 * chunk, or `{ cutAfter: n }`: n content chunks (0: none), then the response ends cleanly without
 * the finish_reason chunk, the usage chunk or `[DONE]`, as a proxy cutting it does.
 */
export type OpenAIStreamEnd =
  | 'complete'
  | 'stall'
  | { error: { message: string; type: string; code: string | null } }
  | { cutAfter: number };

export interface OpenAISimulator extends HttpSimulator {
  /** The answer every healthy request gets (default "hello from openai", 10 in / 4 out). */
  reply(text: string, usage?: OpenAIUsage): void;
  streamEnd(end: OpenAIStreamEnd): void;
  /** The `finish_reason` of every answer (default `stop`; `length` for a truncated one). */
  stopReason(reason: string): void;
  /** Awaited before each content chunk after the first, so a test can let a stream flow piece by piece. */
  pace(before: ((index: number) => Promise<void>) | undefined): void;
  /** The requests made to `POST /v1/chat/completions`. */
  readonly completions: SimulatedRequest[];
}

/** A failure mode answering like the OpenAI API: `{ error: { message, type, code } }`. */
export function openaiError(
  status: number,
  type: string,
  code: string | null,
  headers: Record<string, string> = {},
): FailureMode {
  return { status, body: { error: { message: `simulated ${code ?? type}`, type, param: null, code } }, headers };
}

/** 429 for a rate limit (transient): `retry-after-ms` and `retry-after` as the API sends them. */
export function openaiRateLimit(retryAfterMs: number): FailureMode {
  return openaiError(429, 'requests', 'rate_limit_exceeded', {
    'retry-after-ms': String(retryAfterMs),
    'retry-after': String(Math.ceil(retryAfterMs / 1000)),
  });
}

/** 429 for an exhausted billing quota: same status as a rate limit, told apart by `code`. */
export const OPENAI_INSUFFICIENT_QUOTA = openaiError(429, 'insufficient_quota', 'insufficient_quota');

/**
 * The OpenAI Chat Completions API (`POST /v1/chat/completions`) on 127.0.0.1: JSON answers and
 * SSE streams (`data:` chunks, a usage chunk when `stream_options.include_usage`, then `[DONE]`).
 * Point the SDK at it with `new OpenAI({ apiKey, baseURL: `${sim.url}/v1` })`.
 */
export async function startOpenAISimulator(): Promise<OpenAISimulator> {
  let text = 'hello from openai';
  let usage: OpenAIUsage = { prompt_tokens: 10, completion_tokens: 4 };
  let end: OpenAIStreamEnd = 'complete';
  let stop = 'stop';
  let pacer: ((index: number) => Promise<void>) | undefined;
  const sim = await startHttpSimulator({
    [OPENAI_ROUTE]: (request, response) => {
      const body = (request.body ?? {}) as {
        model?: string;
        stream?: boolean;
        stream_options?: { include_usage?: boolean };
      };
      const model = body.model ?? 'gpt-5-mini';
      if (body.stream) {
        return sse(response, model, text, body.stream_options?.include_usage ? usage : undefined, end, stop, pacer);
      }
      json(
        response,
        200,
        {
          id: 'chatcmpl-sim',
          object: 'chat.completion',
          created: 1_700_000_000,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: stop, logprobs: null }],
          usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
        },
        { 'x-request-id': 'req_sim' },
      );
    },
  });
  return {
    ...sim,
    reply(next: string, nextUsage: OpenAIUsage = usage) {
      text = next;
      usage = nextUsage;
    },
    streamEnd(next: OpenAIStreamEnd) {
      end = next;
    },
    stopReason(reason: string) {
      stop = reason;
    },
    pace(before) {
      pacer = before;
    },
    get completions() {
      return sim.requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions');
    },
  };
}

async function sse(
  response: ServerResponse,
  model: string,
  text: string,
  usage: OpenAIUsage | undefined,
  end: OpenAIStreamEnd,
  stopReason: string,
  pacer: ((index: number) => Promise<void>) | undefined,
) {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    id: 'chatcmpl-sim',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });
  send(chunk({ role: 'assistant', content: '' }, null));
  const deltas = text.match(/\S+\s*/g) ?? [text];
  const sent = typeof end === 'object' && 'cutAfter' in end ? end.cutAfter : end === 'complete' ? deltas.length : 1;
  for (const [i, delta] of deltas.slice(0, sent).entries()) {
    if (i > 0 && pacer) await pacer(i);
    if (response.destroyed) return;
    send(chunk({ content: delta }, null));
  }
  if (end === 'stall') return;
  if (typeof end === 'object') {
    if ('error' in end) send({ error: end.error });
    return void response.end();
  }
  send(chunk({}, stopReason));
  if (usage) {
    send({
      id: 'chatcmpl-sim',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model,
      choices: [],
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
    });
  }
  response.write('data: [DONE]\n\n');
  response.end();
}
