import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { answers, freePort } from '@gl-vcci/upstreams/servers';

/** Where PostgreSQL and Redis come from, as the demo tells the user at start. */
export interface Backend {
  url: string;
  /** How it was chosen: the variable, the machine's server, or the demo's own stand-in. */
  origin: 'DATABASE_URL' | 'REDIS_URL' | 'local server' | 'embedded PGlite' | 'none (local fallback)';
  describe: string;
  stop(): Promise<void>;
}

const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/test';
const LOCAL_REDIS = 'redis://127.0.0.1:6379';

async function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return answers(hostname || '127.0.0.1', Number(port || defaultPort), 500);
}

/** DATABASE_URL, else the local server on 127.0.0.1:5432 if it answers, else an embedded PGlite. */
export async function findPostgres(options: { dataDir: string; env?: NodeJS.ProcessEnv }): Promise<Backend> {
  const env = options.env ?? process.env;
  const fromEnv = env.DATABASE_URL;
  if (fromEnv) {
    return { url: fromEnv, origin: 'DATABASE_URL', describe: 'PostgreSQL from DATABASE_URL', stop: async () => {} };
  }
  if (await reachable(LOCAL_PG, 5432)) {
    return {
      url: LOCAL_PG,
      origin: 'local server',
      describe: 'PostgreSQL: the local server on 127.0.0.1:5432 (database test)',
      stop: async () => {},
    };
  }
  return startPglite(options.dataDir);
}

/** REDIS_URL, else the local server on 127.0.0.1:6379 if it answers, else none: cache-client serves locally. */
export async function findRedis(env: NodeJS.ProcessEnv = process.env): Promise<Backend> {
  if (env.REDIS_URL) {
    return { url: env.REDIS_URL, origin: 'REDIS_URL', describe: 'Redis from REDIS_URL', stop: async () => {} };
  }
  if (await reachable(LOCAL_REDIS, 6379)) {
    return {
      url: LOCAL_REDIS,
      origin: 'local server',
      describe: 'Redis: the local server on 127.0.0.1:6379',
      stop: async () => {},
    };
  }
  return {
    url: LOCAL_REDIS,
    origin: 'none (local fallback)',
    describe:
      'Redis: none answers on 127.0.0.1:6379 and REDIS_URL is not set: cache-client serves from its local tier (the cache.redis circuit will show it)',
    stop: async () => {},
  };
}

/**
 * PGlite (PostgreSQL compiled to WASM) behind its socket server, in a child process: its queries
 * block the event loop of the process that runs them, so they must not share one with the HTTP
 * server. db-client still speaks the wire protocol to it.
 */
async function startPglite(dataDir: string): Promise<Backend> {
  const require = createRequire(import.meta.url);
  const script = join(dirname(require.resolve('@electric-sql/pglite-socket')), 'scripts', 'server.js');
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [script, `--db=${dataDir}`, `--port=${port}`, '--max-connections=30'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const deadline = Date.now() + 60_000;
  while (!(await answers('127.0.0.1', port, 300))) {
    if (child.exitCode !== null) throw new Error(`embedded PGlite exited (${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`embedded PGlite did not listen on 127.0.0.1:${port} within 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    origin: 'embedded PGlite',
    describe: `PostgreSQL: none answers on 127.0.0.1:5432 and DATABASE_URL is not set: embedded PGlite (data in ${dataDir}) on 127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}
