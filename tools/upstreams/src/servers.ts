import { createServer, Socket } from 'node:net';

/** A free TCP port on 127.0.0.1 (listen on 0, read it back, close), so test files can run in parallel. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether something accepts TCP connections at host:port within `timeoutMs`. */
export function answers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

export interface SharedServer {
  /** The URL to use (from the variable, or the machine's default). */
  url: string;
  /** False only outside CI when the server does not answer: the suite should skip. */
  available: boolean;
}

/**
 * Finds the shared PostgreSQL or Redis a suite needs. Under CI=true a missing server is an error;
 * elsewhere the suite may skip, after a loud notice naming the server and the variable to set.
 */
export async function sharedServer(
  kind: 'PostgreSQL' | 'Redis',
  variable: string,
  fallbackUrl: string,
): Promise<SharedServer> {
  const url = process.env[variable] ?? fallbackUrl;
  const { hostname, port } = new URL(url);
  const defaultPort = kind === 'PostgreSQL' ? 5432 : 6379;
  if (await answers(hostname, Number(port || defaultPort))) return { url, available: true };
  const message = `${kind} does not answer at ${url}: start it (see DEVELOPERS.md) or set ${variable}`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(message);
  console.warn(`\n*** SKIPPING: ${message} ***\n`);
  return { url, available: false };
}
