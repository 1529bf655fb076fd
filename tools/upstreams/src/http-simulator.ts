import { once } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';

/**
 * How a route answers. Everything but `healthy` is a failure a test can switch on and off:
 * - `hang`: reads the request, never answers (the socket stays open);
 * - `reset`: destroys the connection as soon as the request arrives (ECONNRESET);
 * - `{ status, body?, headers? }`: answers that status (5xx, 429 with Retry-After, 404…);
 * - `{ drip: { intervalMs, chunks } }`: sends the healthy answer's headers, then its body a few
 *   bytes at a time: an idle timer never fires, a deadline does;
 * - `{ delayMs }`: the healthy answer, late;
 * - `malformed`: 200 with a body that is not JSON;
 * - `{ flap: { every, failure } }`: `every` healthy answers, then `every` failures, and so on.
 * Refusing connections is server-wide: `stop()` and `start()` (same port).
 */
export type FailureMode =
  | 'healthy'
  | 'hang'
  | 'reset'
  | 'malformed'
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { drip: { intervalMs: number; chunks: number } }
  | { delayMs: number }
  | { flap: { every: number; failure: Exclude<FailureMode, { flap: unknown }> } };

export interface SimulatedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The body parsed as JSON, or the raw text when it is not JSON. */
  body: unknown;
}

/** A route's healthy behaviour: answer however it likes (JSON, SSE…) on the raw response. */
export type RouteHandler = (request: SimulatedRequest, response: ServerResponse) => void | Promise<void>;

export interface HttpSimulator {
  readonly url: string;
  readonly port: number;
  /** Every request received, in order (also those answered with a failure). */
  readonly requests: SimulatedRequest[];
  /** Sets the failure mode of one route (`'POST /v1/messages'`), or of every route with `'*'`. */
  mode(route: string, mode: FailureMode): void;
  /** Stops listening (new connections are refused) and drops open ones. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * A local HTTP stand-in for an outside service, on 127.0.0.1 and an ephemeral port. Routes are
 * `'METHOD /path'` (a path segment `:name` matches anything); unknown routes get a 404.
 */
export async function startHttpSimulator(routes: Record<string, RouteHandler>): Promise<HttpSimulator> {
  const requests: SimulatedRequest[] = [];
  const modes = new Map<string, FailureMode>();
  const served = new Map<string, number>();
  const sockets = new Set<Socket>();
  const matchers = Object.entries(routes).map(([route, handler]) => ({ route, handler, test: matcher(route) }));

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const text = await readBody(req);
    const request: SimulatedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: parseJson(text),
    };
    requests.push(request);
    const found = matchers.find((m) => m.test(request.method, request.path));
    if (!found)
      return json(res, 404, { error: { type: 'not_found', message: `no route ${request.method} ${request.path}` } });
    const count = (served.get(found.route) ?? 0) + 1;
    served.set(found.route, count);
    const mode = resolveFlap(modes.get(found.route) ?? modes.get('*') ?? 'healthy', count);
    await answer(mode, request, res, found.handler);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { type: 'simulator_error', message: String(error) } });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };

  const stop = async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    mode(route, mode) {
      modes.set(route, mode);
      served.set(route, 0);
      if (route === '*') for (const key of served.keys()) served.set(key, 0);
    },
    stop,
    async start() {
      if (server.listening) return;
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    close: stop,
  };
}

async function answer(mode: FailureMode, request: SimulatedRequest, res: ServerResponse, handler: RouteHandler) {
  if (mode === 'healthy') return handler(request, res);
  if (mode === 'hang') return;
  if (mode === 'reset') return void res.socket?.destroy();
  if (mode === 'malformed') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end('{"value": 0.2, "unit": ');
  }
  if ('status' in mode)
    return json(
      res,
      mode.status,
      mode.body ?? { error: { type: 'simulated', message: `HTTP ${mode.status}` } },
      mode.headers,
    );
  if ('delayMs' in mode) {
    await new Promise((resolve) => setTimeout(resolve, mode.delayMs));
    return handler(request, res);
  }
  if ('drip' in mode) return drip(mode.drip, request, res, handler);
  throw new Error(`unknown failure mode ${JSON.stringify(mode)}`);
}

/** Lets the handler answer into a buffer, then trickles that answer out. */
async function drip(
  { intervalMs, chunks }: { intervalMs: number; chunks: number },
  request: SimulatedRequest,
  res: ServerResponse,
  handler: RouteHandler,
) {
  const parts: Buffer[] = [];
  let status = 200;
  let headers: OutgoingHttpHeaders = {};
  const capture = {
    writeHead(code: number, h?: OutgoingHttpHeaders) {
      status = code;
      headers = h ?? {};
      return capture;
    },
    setHeader(name: string, value: string) {
      headers[name] = value;
    },
    write(chunk: string | Buffer) {
      parts.push(Buffer.from(chunk));
      return true;
    },
    end(chunk?: string | Buffer) {
      if (chunk) parts.push(Buffer.from(chunk));
    },
  };
  await handler(request, capture as unknown as ServerResponse);
  const body = Buffer.concat(parts);
  const { 'content-length': _dropped, ...rest } = headers;
  res.writeHead(status, rest);
  const size = Math.max(1, Math.ceil(body.length / chunks));
  for (let offset = 0; offset < body.length; offset += size) {
    if (res.destroyed) return;
    res.write(body.subarray(offset, offset + size));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  res.end();
}

function resolveFlap(mode: FailureMode, count: number): Exclude<FailureMode, { flap: unknown }> {
  if (typeof mode === 'object' && 'flap' in mode) {
    const phase = Math.floor((count - 1) / mode.flap.every) % 2;
    return phase === 0 ? 'healthy' : mode.flap.failure;
  }
  return mode;
}

function matcher(route: string): (method: string, path: string) => boolean {
  const [method, pattern] = route.split(' ') as [string, string];
  const segments = pattern.split('/');
  return (m, path) => {
    if (m !== method) return false;
    const parts = path.split('/');
    return parts.length === segments.length && segments.every((s, i) => s.startsWith(':') || s === parts[i]);
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
