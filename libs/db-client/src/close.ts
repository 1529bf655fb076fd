import { Socket } from 'node:net';
import type { Clock, Logger } from '@gl-vcci/breaker-core';
import type { Pool, PoolClient } from 'pg';

/**
 * Ends the pools gracefully (Terminate to each connection; held ones once their callers release
 * them) and resolves once every socket is closed. pg-pool's end() resolves without waiting for
 * the server to close them, and a hung server never does: the sockets still open after
 * `timeoutMs` (a hung server, a statement still running) are destroyed.
 */
export async function endPools(
  pools: readonly Pool[],
  options: { timeoutMs: number; clock: Clock; log: Logger },
): Promise<void> {
  const { timeoutMs, clock, log } = options;
  const sockets = new Set(pools.flatMap((pool) => socketsOf(pool)));
  // A connection still being made has nothing to end gracefully, and pool.end() would wait for
  // it: on a hung server, until connectionTimeoutMillis. Its caller is already cut by close().
  for (const pool of pools) for (const socket of socketsOf(pool, connecting)) socket.destroy();
  const timer = clock.setTimeout(() => {
    for (const pool of pools) for (const socket of socketsOf(pool)) sockets.add(socket);
    const open = [...sockets].filter((socket) => !socket.closed);
    for (const socket of open) socket.destroy();
    if (open.length > 0) log.warn({ destroyed: open.length, timeoutMs }, 'close: connections destroyed at the timeout');
  }, timeoutMs);
  try {
    await Promise.all(pools.map((pool) => pool.end()));
    await Promise.all([...sockets].map(whenClosed));
  } finally {
    clock.clearTimeout(timer);
  }
}

/** The sockets of every connection the pool has, idle, held or being made (pg has no public API for them). */
export function socketsOf(pool: Pool, which: (client: PoolClient) => boolean = () => true): Socket[] {
  const clients = (pool as unknown as { _clients?: PoolClient[] })._clients ?? [];
  return clients.filter(which).flatMap((client) => {
    const stream = (client as unknown as { connection?: { stream?: unknown } }).connection?.stream;
    return stream instanceof Socket ? [stream] : [];
  });
}

/**
 * Resolves once the socket is closed (pg's end() only sends Terminate and half-closes it), and
 * its handle released: Node lists it as active until the turn after 'close'.
 */
export function whenClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const released = () => setImmediate(resolve);
    if (socket.closed) released();
    else socket.once('close', released);
  });
}

/** A client whose connection is not made yet (pg's own flags; no public API for them). */
function connecting(client: PoolClient): boolean {
  const flags = client as unknown as { _connecting?: boolean; _connected?: boolean };
  return flags._connecting === true && flags._connected !== true;
}
