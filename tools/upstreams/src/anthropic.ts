import type { ServerResponse } from 'node:http';
import {
  type FailureMode,
  type HttpSimulator,
  json,
  type SimulatedRequest,
  startHttpSimulator,
} from './http-simulator.js';

export const ANTHROPIC_ROUTE = 'POST /v1/messages';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
}

/**
 * What a streamed answer does after its first text delta: complete, stall (socket open, nothing
 * sent), an `error` event, or `{ cutAfter: n }`: n text deltas (0: none), then the response ends
 * cleanly without content_block_stop, message_delta or message_stop, as a proxy cutting it does.
 */
export type AnthropicStreamEnd =
  | 'complete'
  | 'stall'
  | { error: { type: string; message: string } }
  | { cutAfter: number };

export interface AnthropicSimulator extends HttpSimulator {
  /** The answer every healthy request gets (default "hello from claude", 12 in / 5 out). */
  reply(text: string, usage?: AnthropicUsage): void;
  /** How streamed answers end after the first delta: normally, stalled (socket open, nothing sent) or with an `error` event. */
  streamEnd(end: AnthropicStreamEnd): void;
  /** The `stop_reason` of every answer (default `end_turn`; `max_tokens` for a truncated one). */
  stopReason(reason: string): void;
  /** Awaited before each text delta after the first, so a test can let a stream flow piece by piece. */
  pace(before: ((index: number) => Promise<void>) | undefined): void;
  /** The requests made to `POST /v1/messages`. */
  readonly messages: SimulatedRequest[];
}

/** A failure mode answering like the Messages API: `{ type: 'error', error: { type, message } }`. */
export function anthropicError(status: number, type: string, headers: Record<string, string> = {}): FailureMode {
  return { status, body: { type: 'error', error: { type, message: `simulated ${type}` } }, headers };
}

/**
 * The Anthropic Messages API (`POST /v1/messages`) on 127.0.0.1: JSON answers and SSE streams
 * with the real event sequence (message_start, content_block_start, ping, content_block_delta…,
 * content_block_stop, message_delta with usage, message_stop). Point the SDK at it with
 * `new Anthropic({ apiKey, baseURL: sim.url })`.
 */
export async function startAnthropicSimulator(): Promise<AnthropicSimulator> {
  let text = 'hello from claude';
  let usage: AnthropicUsage = { input_tokens: 12, output_tokens: 5 };
  let end: AnthropicStreamEnd = 'complete';
  let stop = 'end_turn';
  let pacer: ((index: number) => Promise<void>) | undefined;
  const sim = await startHttpSimulator({
    [ANTHROPIC_ROUTE]: (request, response) => {
      const body = (request.body ?? {}) as { model?: string; stream?: boolean };
      const model = body.model ?? 'claude-sonnet-4-6';
      if (body.stream) return sse(response, model, text, usage, end, stop, pacer);
      json(response, 200, message(model, text, usage, stop), { 'request-id': 'req_sim' });
    },
  });
  return {
    ...sim,
    reply(next: string, nextUsage: AnthropicUsage = usage) {
      text = next;
      usage = nextUsage;
    },
    streamEnd(next: AnthropicStreamEnd) {
      end = next;
    },
    stopReason(reason: string) {
      stop = reason;
    },
    pace(before) {
      pacer = before;
    },
    get messages() {
      return sim.requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages');
    },
  };
}

function message(model: string, text: string, usage: AnthropicUsage, stopReason = 'end_turn') {
  return {
    id: 'msg_sim',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: stopReason,
    stop_sequence: null,
    usage,
  };
}

async function sse(
  response: ServerResponse,
  model: string,
  text: string,
  usage: AnthropicUsage,
  end: AnthropicStreamEnd,
  stopReason: string,
  pacer: ((index: number) => Promise<void>) | undefined,
) {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (event: string, data: unknown) => response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const start = { ...message(model, '', { input_tokens: usage.input_tokens, output_tokens: 1 }), content: [] };
  send('message_start', { type: 'message_start', message: { ...start, stop_reason: null } });
  send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  send('ping', { type: 'ping' });
  const deltas = text.match(/\S+\s*/g) ?? [text];
  const sent = typeof end === 'object' && 'cutAfter' in end ? end.cutAfter : end === 'complete' ? deltas.length : 1;
  for (const [i, delta] of deltas.slice(0, sent).entries()) {
    if (i > 0 && pacer) await pacer(i);
    if (response.destroyed) return;
    send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: delta } });
  }
  if (end === 'stall') return;
  if (typeof end === 'object') {
    if ('error' in end) send('error', { type: 'error', error: end.error });
    return void response.end();
  }
  send('content_block_stop', { type: 'content_block_stop', index: 0 });
  send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  send('message_stop', { type: 'message_stop' });
  response.end();
}
