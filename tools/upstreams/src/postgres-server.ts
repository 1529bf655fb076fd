import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './servers.js';

export type StopMode = 'fast' | 'smart' | 'immediate';

export interface PostgresServerOptions {
  /** `max_connections` of the server (default 20). */
  maxConnections?: number;
  /** Further `-c name=value` settings, e.g. `{ superuser_reserved_connections: 0 }`. */
  settings?: Record<string, string | number | boolean>;
  /** Major version directory under /usr/lib/postgresql (default: the highest installed). */
  version?: string;
}

export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  readonly url: string;
  /** Its temp directory: data/, the unix socket and server.log (read it when a start fails). */
  readonly directory: string;
  /** `pg_ctl stop -m <mode>`: fast ends sessions with 57P01; smart lets them finish and refuses new ones (57P03). Resolves once stopped. */
  stop(mode?: StopMode): Promise<void>;
  /** Starts it again on the same port and data directory (crash recovery runs after `kill`). */
  start(): Promise<void>;
  /** SIGKILL to the postmaster and every backend, like a machine or OOM kill: clients see their sockets close. */
  kill(): Promise<void>;
  /**
   * SIGSTOP to the postmaster and every backend: a hung server. Connections stay open and new ones
   * are accepted by the kernel, but nothing answers until `resume()`.
   */
  pause(): void;
  /** SIGCONT to what `pause()` stopped. */
  resume(): void;
  /** Stops it if running and removes its temp directory. Call it in afterAll. */
  close(): Promise<void>;
}

const BIN_ROOT = '/usr/lib/postgresql';
const SERVER_USER = 'postgres';
// Process-wide on purpose: one 'exit' hook kills whatever servers a crashed test left running.
const live = new Set<() => void>();
let exitHookInstalled = false;

/**
 * A throwaway PostgreSQL on its own free port, for outage tests that must not touch the shared
 * server: initdb into a temp directory owned by `postgres`, then pg_ctl as that user (PostgreSQL
 * refuses to run as root). Durability is off (fsync, WAL) because the data is thrown away.
 */
export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = join(BIN_ROOT, options.version ?? newestVersion(), 'bin');
  const root = mkdtempSync(join(tmpdir(), 'gl-vcci-pg-'));
  const dataDir = join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = userIds(SERVER_USER);
    chownSync(root, uid, gid);
  }
  const run = (tool: string, args: string[]) =>
    exec(asRoot ? 'runuser' : join(bin, tool), asRoot ? ['-u', SERVER_USER, '--', join(bin, tool), ...args] : args);

  const port = await freePort();
  const settings: Record<string, string | number | boolean> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: root,
    max_connections: options.maxConnections ?? 20,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    wal_level: 'minimal',
    max_wal_senders: 0,
    ...options.settings,
  };
  const serverOptions = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
  let running = false;

  const cleanUpOnExit = () => {
    // Synchronous last resort if the test process exits without close(): no stray server.
    const postmaster = postmasterPid(dataDir);
    if (postmaster !== undefined) for (const pid of [postmaster, ...childPids(postmaster)]) signal(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  live.add(cleanUpOnExit);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const cleanUp of live) cleanUp();
    });
  }

  const start = async () => {
    await run('pg_ctl', [
      'start',
      '-w',
      '-t',
      '30',
      '-D',
      dataDir,
      '-l',
      join(root, 'server.log'),
      '-o',
      serverOptions,
    ]);
    running = true;
  };
  const kill = async () => {
    const postmaster = postmasterPid(dataDir);
    if (postmaster !== undefined) {
      // Frozen first, so it cannot fork a replacement while its children are killed.
      signal(postmaster, 'SIGSTOP');
      const pids = [...childPids(postmaster), postmaster];
      for (const pid of pids) signal(pid, 'SIGKILL');
      await waitFor(() => pids.every((pid) => !alive(pid)), 10_000, 'the killed PostgreSQL processes to exit');
      // A killed postmaster leaves its lock files behind, and until PID 1 reaps it (late, on some
      // machines) its pid still "exists": the next start would take it for a running server.
      for (const file of ['data/postmaster.pid', `.s.PGSQL.${port}.lock`, `.s.PGSQL.${port}`]) {
        rmSync(join(root, file), { force: true });
      }
    }
    running = false;
  };

  try {
    await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-N', '-E', 'UTF8', '--locale=C']);
    await start();
  } catch (error) {
    cleanUpOnExit();
    live.delete(cleanUpOnExit);
    throw error;
  }

  let paused: number[] = [];
  const resume = () => {
    for (const pid of paused.reverse()) signal(pid, 'SIGCONT');
    paused = [];
  };

  return {
    host: '127.0.0.1',
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    directory: root,
    async stop(mode: StopMode = 'fast') {
      await run('pg_ctl', ['stop', '-w', '-t', '30', '-D', dataDir, '-m', mode]);
      running = false;
    },
    start,
    kill,
    pause() {
      const postmaster = postmasterPid(dataDir);
      if (postmaster === undefined) throw new Error('pause: the server is not running');
      // The postmaster first, so it forks no backend that would escape the stop.
      signal(postmaster, 'SIGSTOP');
      paused = [postmaster, ...childPids(postmaster)];
      for (const pid of paused) signal(pid, 'SIGSTOP');
    },
    resume,
    async close() {
      resume();
      if (running || postmasterPid(dataDir) !== undefined) {
        try {
          await run('pg_ctl', ['stop', '-w', '-t', '10', '-D', dataDir, '-m', 'immediate']);
        } catch {
          await kill();
        }
      }
      rmSync(root, { recursive: true, force: true });
      live.delete(cleanUpOnExit);
    },
  };
}

function exec(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || error.message}`, { cause: error }));
      else resolve(stdout);
    });
  });
}

function newestVersion(): string {
  const versions = existsSync(BIN_ROOT) ? readdirSync(BIN_ROOT).filter((v) => /^\d+$/.test(v)) : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${BIN_ROOT}`);
  return versions.sort((a, b) => Number(b) - Number(a))[0]!;
}

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no "${name}" user: PostgreSQL cannot run as root`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The running postmaster's pid (first line of postmaster.pid), if any. */
function postmasterPid(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

/** The backends and auxiliary processes of a postmaster, read from /proc. */
function childPids(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The fields after the parenthesised command are: state, ppid, ...
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) children.push(Number(entry));
    } catch {
      // it ended while we looked
    }
  }
  return children;
}

/** Running, and not a zombie waiting for PID 1 to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
