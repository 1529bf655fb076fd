import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './servers.js';

export interface StartRedisOptions {
  /** Port to listen on (default: a free one). A restart keeps it. */
  port?: number;
  /** The redis-server binary (default `redis-server` from PATH). */
  binary?: string;
  /** Extra `--option value` arguments, appended after the defaults. */
  args?: string[];
  /** How long to wait for "Ready to accept connections" (default 10 000 ms). */
  startTimeoutMs?: number;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The server process id, or undefined while it is not running. */
  readonly pid: number | undefined;
  /** Whether the process is running (paused counts as running). */
  readonly running: boolean;
  /** SIGTERM (after SIGCONT if paused) and wait for the exit: clients see their sockets close. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit: the abrupt crash. */
  kill(): Promise<void>;
  /** SIGSTOP: the server accepts TCP connections (the kernel does) but answers nothing — a hung Redis. */
  pause(): Promise<void>;
  /** SIGCONT: a paused server answers again, including what was sent to it meanwhile. */
  resume(): void;
  /** Starts again on the same port, stopping it first if it still runs. Data is gone (no persistence). */
  restart(): Promise<void>;
}

// Every server started by this module, killed on process exit if a test forgot to stop it.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * A throwaway redis-server on 127.0.0.1 for outage tests: a foreground child process with no
 * persistence (`--save "" --appendonly no`), so it can be killed, hung (SIGSTOP) and restarted
 * without touching the shared server. Always `stop()` or `kill()` it (afterAll); a server left
 * running is killed when the test process exits.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  // Another process may take a free port between freePort() and the bind: try a few.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startOn(port, options);
    } catch (error) {
      const taken = String((error as Error).message).includes('Address already in use');
      if (options.port !== undefined || !taken || attempt >= 3) throw error;
    }
  }
}

async function startOn(port: number, options: StartRedisOptions): Promise<RedisServer> {
  const binary = options.binary ?? 'redis-server';
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--protected-mode',
    'no',
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined = await launch(binary, args, startTimeoutMs);
  let paused = false;

  const waitExit = async (signal: NodeJS.Signals): Promise<void> => {
    const current = child;
    if (!current) return;
    child = undefined;
    paused = false;
    if (current.exitCode === null && current.signalCode === null) {
      const exited = once(current, 'exit');
      current.kill(signal);
      await exited;
    }
    live.delete(current);
  };

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined;
    },
    async stop() {
      // A stopped process acts on SIGTERM only once continued.
      if (paused) child?.kill('SIGCONT');
      await waitExit('SIGTERM');
    },
    kill() {
      return waitExit('SIGKILL');
    },
    async pause() {
      if (!child) throw new Error(`redis-server on port ${port} is not running`);
      const pid = child.pid!;
      child.kill('SIGSTOP');
      paused = true;
      // SIGSTOP is asynchronous: return once the kernel reports the process stopped.
      for (let i = 0; i < 200 && processState(pid) !== 'T'; i++) await sleep(10);
      if (processState(pid) !== 'T') throw new Error(`redis-server on port ${port} did not stop on SIGSTOP`);
    },
    resume() {
      if (!child) throw new Error(`redis-server on port ${port} is not running`);
      child.kill('SIGCONT');
      paused = false;
    },
    async restart() {
      await server.stop();
      child = await launch(binary, args, startTimeoutMs);
    },
  };
  return server;
}

/** Spawns redis-server and resolves once it accepts connections; rejects with its output if it exits first. */
async function launch(binary: string, args: string[], startTimeoutMs: number): Promise<ChildProcess> {
  installExitHook();
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`redis-server did not start in ${startTimeoutMs} ms`)),
        startTimeoutMs,
      );
      const cleanUp = () => {
        clearTimeout(timer);
        child.stdout!.off('data', onReady);
        child.off('exit', onExit);
        child.off('error', fail);
      };
      function fail(error: Error) {
        cleanUp();
        reject(error);
      }
      const onReady = () => {
        if (!output.includes('Ready to accept connections')) return;
        cleanUp();
        resolve();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        fail(new Error(`redis-server exited before it was ready (code ${code}, signal ${signal})`));
      child.stdout!.on('data', onReady);
      child.once('exit', onExit);
      child.once('error', fail);
    });
  } catch (error) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    live.delete(child);
    throw new Error(`${(error as Error).message}; ${binary} ${args.join(' ')}\n${output}`, { cause: error });
  }
  // Keep draining the pipes so a chatty server never blocks on a full one.
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

/** The process state letter from /proc (R running, S sleeping, T stopped, …). */
export function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}
