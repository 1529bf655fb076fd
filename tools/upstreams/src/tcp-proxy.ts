import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/**
 * - `pass`: forward both ways.
 * - `cut`: destroy every connection and refuse new ones (nothing listens: ECONNREFUSED).
 * - `blackhole`: accept, but forward nothing either way, on new and open connections alike (a
 *   hung server or a network partition). Bytes are held, not dropped: back in `pass`, they flow.
 * - `{ delayMs }`: forward every chunk that much later, in order.
 */
export type ProxyMode = 'pass' | 'cut' | 'blackhole' | { delayMs: number };

export interface TcpProxyOptions {
  target: { host: string; port: number };
  /** Port to listen on, 127.0.0.1 (default: a free one). */
  port?: number;
}

export interface TcpProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Switches the fault; resolves once it applies (after `cut`, listening again takes a moment). */
  mode(set: ProxyMode): Promise<void>;
  /** Client connections currently open through the proxy. */
  readonly connections: number;
  /** Stops listening and destroys every connection and timer. */
  close(): Promise<void>;
}

interface Direction {
  to: Socket | undefined;
  /** Chunks waiting for their time (delay) or for the mode to allow them (blackhole). */
  queue: Array<{ at: number; chunk: Buffer }>;
  timer: NodeJS.Timeout | undefined;
}

interface Link {
  client: Socket;
  upstream: Socket | undefined;
  up: Direction;
  down: Direction;
}

/** A fault-injecting TCP proxy on 127.0.0.1 in front of a real server (PostgreSQL, Redis, ...). */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const { target } = options;
  let current: ProxyMode = 'pass';
  let closed = false;
  const links = new Set<Link>();
  let server: Server | undefined;

  const delayOf = () => (typeof current === 'object' ? current.delayMs : 0);

  const flush = (dir: Direction) => {
    if (dir.timer) clearTimeout(dir.timer);
    dir.timer = undefined;
    if (current === 'blackhole' || !dir.to || dir.to.connecting) return;
    const now = Date.now();
    while (dir.queue.length > 0 && dir.queue[0]!.at <= now) dir.to.write(dir.queue.shift()!.chunk);
    if (dir.queue.length > 0) dir.timer = setTimeout(() => flush(dir), dir.queue[0]!.at - now);
  };

  const destroy = (link: Link) => {
    for (const dir of [link.up, link.down]) {
      if (dir.timer) clearTimeout(dir.timer);
      dir.queue.length = 0;
    }
    link.client.destroy();
    link.upstream?.destroy();
    links.delete(link);
  };

  const openUpstream = (link: Link) => {
    const upstream = tcpConnect(target.port, target.host);
    link.upstream = upstream;
    link.up.to = upstream;
    upstream.on('data', (chunk: Buffer) => enqueue(link.down, chunk));
    upstream.on('connect', () => flush(link.up));
    upstream.on('error', () => destroy(link));
    upstream.on('close', () => destroy(link));
  };

  const enqueue = (dir: Direction, chunk: Buffer) => {
    dir.queue.push({ at: Date.now() + delayOf(), chunk });
    if (!dir.timer) flush(dir);
  };

  const accept = (client: Socket) => {
    if (current === 'cut' || closed) {
      client.destroy();
      return;
    }
    const link: Link = {
      client,
      upstream: undefined,
      up: { to: undefined, queue: [], timer: undefined },
      down: { to: client, queue: [], timer: undefined },
    };
    links.add(link);
    client.on('data', (chunk: Buffer) => enqueue(link.up, chunk));
    client.on('error', () => destroy(link));
    client.on('close', () => destroy(link));
    // A black hole accepts and says nothing; the upstream is opened once the mode allows it.
    if (current !== 'blackhole') openUpstream(link);
  };

  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer(accept);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve(s);
      });
    });
  const stopListening = async () => {
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  server = await listen(options.port ?? 0);
  const port = (server.address() as { port: number }).port;

  return {
    host: '127.0.0.1',
    port,
    get connections() {
      return links.size;
    },
    async mode(set: ProxyMode) {
      if (closed) throw new Error('the proxy is closed');
      if (typeof set === 'object' && !(Number.isFinite(set.delayMs) && set.delayMs >= 0)) {
        throw new Error(`delayMs: expected a non-negative number, got ${set.delayMs}`);
      }
      current = set;
      if (set === 'cut') {
        for (const link of [...links]) destroy(link);
        await stopListening();
        return;
      }
      if (!server) server = await listen(port);
      if (set === 'blackhole') return;
      for (const link of links) {
        if (!link.upstream) openUpstream(link);
        flush(link.up);
        flush(link.down);
      }
    },
    async close() {
      closed = true;
      for (const link of [...links]) destroy(link);
      await stopListening();
    },
  };
}
