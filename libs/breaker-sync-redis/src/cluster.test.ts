import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@gl-vcci/breaker-core/testing';
import { type HttpSimulator, json, startHttpSimulator } from '@gl-vcci/upstreams/http-simulator';
import { sharedServer } from '@gl-vcci/upstreams/servers';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Four replicas in four processes (test/worker.mjs on the built package) call one simulated
// upstream that is dead (HTTP 503). Counted at the upstream: the calls that reached it before all
// four circuits were open, alone vs with the Redis sync; the trial calls in each open period; and
// recovery. The figures are printed for the README ("Scaling out").

const shared = await sharedServer('Redis', 'REDIS_URL', 'redis://127.0.0.1:6379');
const WORKER = fileURLToPath(new URL('../test/worker.mjs', import.meta.url));
const REPLICAS = 4;
const FAIL_MAX = 5;
const CONCURRENCY = 2;
const OPEN_MS = 1_000;
const PERIODS = 3;
const ROUTE = 'GET /v1/ping';

interface Report {
  id: string;
  type: string;
  to?: string;
  reason?: string;
  at?: number;
  message?: string;
}

interface Hit {
  worker: string;
  trial: boolean;
  sentAt: number;
}

let sim: HttpSimulator;
const workers: ChildProcess[] = [];
const reports: Report[] = [];
const prefixes: string[] = [];
const admin = createClient({ url: shared.url });

beforeAll(async () => {
  if (!shared.available) return;
  await admin.connect();
  sim = await startHttpSimulator({ [ROUTE]: (_request, response) => json(response, 200, { ok: true }) });
  for (let n = 0; n < REPLICAS; n++) {
    const child = fork(WORKER, [String(n)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.on('message', (m: Report) => reports.push(m));
    workers.push(child);
  }
  await waitFor(() => reports.filter((r) => r.type === 'alive').length === REPLICAS, 'workers alive', 20_000);
});

afterAll(async () => {
  for (const child of workers) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.exitCode === null) child.send({ cmd: 'exit' });
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  await sim?.close();
  for (const prefix of prefixes) {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(keys);
  }
  if (admin.isOpen) admin.destroy();
});

const hits = (): Hit[] =>
  sim.requests.map((r) => ({
    worker: String(r.headers['x-worker']),
    trial: r.headers['x-trial'] === '1',
    sentAt: Number(r.headers['x-sent-at']),
  }));

function errors(): string[] {
  return reports.filter((r) => r.type === 'error').map((r) => `${r.id}: ${r.message}`);
}

async function command(cmd: string, reply: string, options: Record<string, unknown> = {}, delays?: number[]) {
  const from = reports.length;
  for (const [n, child] of workers.entries()) child.send({ cmd, options: { ...options, delayMs: delays?.[n] ?? 0 } });
  await waitFor(
    () => errors().length > 0 || reports.slice(from).filter((r) => r.type === reply).length === REPLICAS,
    `every worker ${reply}`,
    20_000,
  );
  expect(errors()).toEqual([]);
}

/** The transitions reported since `from`, per worker. */
const transitions = (from: number) => reports.slice(from).filter((r) => r.type === 'state');

interface RunResult {
  hitsBeforeAllOpen: number;
  allOpenAfterMs: number;
  openedBy: Record<string, string>;
  periods?: Array<{ trials: number; probers: string[]; other: number }>;
  recovery?: { closedAfterMs: number; reasons: string[] };
}

/**
 * One outage: the workers start calling the dead upstream (`stagger` ms apart), until all four
 * circuits are open; then, when `periods`, it stays dead that many open periods, then comes back.
 */
async function outage(sync: boolean, stagger: number, periods = 0): Promise<RunResult> {
  const prefix = `gl-vcci-test:cluster:${randomUUID()}:`;
  prefixes.push(prefix);
  sim.requests.length = 0;
  sim.mode(ROUTE, { status: 503, body: { error: 'down' } });
  await command('setup', 'ready', {
    sync,
    prefix,
    redisUrl: shared.url,
    failMax: FAIL_MAX,
    openDurationMs: OPEN_MS,
    callTimeoutMs: 500,
  });
  const from = reports.length;
  const start = Date.now();
  for (const [n, child] of workers.entries()) {
    child.send({
      cmd: 'go',
      options: { url: `${sim.url}/v1/ping`, concurrency: CONCURRENCY, intervalMs: 10, delayMs: n * stagger },
    });
  }

  const opened = () =>
    new Map(
      transitions(from)
        .filter((r) => r.to === 'open')
        .map((r) => [r.id, r]),
    );
  await waitFor(() => errors().length > 0 || opened().size === REPLICAS, 'all four circuits open', 10_000);
  const openings = [...opened().values()];
  const allOpenAt = Math.max(...openings.map((r) => r.at!));
  // Calls already sent when the last circuit opened still land: wait for them, then count.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const result: RunResult = {
    hitsBeforeAllOpen: hits().filter((h) => h.sentAt <= allOpenAt).length,
    allOpenAfterMs: allOpenAt - start,
    openedBy: Object.fromEntries(openings.map((r) => [r.id, r.reason!])),
  };
  if (periods > 0) {
    const before = hits().length;
    await new Promise((resolve) => setTimeout(resolve, periods * OPEN_MS + OPEN_MS / 2));
    const during = hits().slice(before);
    // An open period's trials are those sent within half a period of each other.
    const groups: Hit[][] = [];
    for (const hit of during.filter((h) => h.trial).sort((a, b) => a.sentAt - b.sentAt)) {
      const last = groups.at(-1);
      if (last && hit.sentAt - last[0]!.sentAt < OPEN_MS / 2) last.push(hit);
      else groups.push([hit]);
    }
    result.periods = groups.map((g) => ({
      trials: g.length,
      probers: [...new Set(g.map((h) => h.worker))],
      other: 0,
    }));
    if (result.periods[0]) result.periods[0].other = during.filter((h) => !h.trial).length;
    const healed = Date.now();
    const mark = reports.length;
    sim.mode(ROUTE, 'healthy');
    const closed = () =>
      new Map(
        transitions(mark)
          .filter((r) => r.to === 'closed')
          .map((r) => [r.id, r]),
      );
    await waitFor(() => closed().size === REPLICAS, 'all four circuits closed', 3 * OPEN_MS + 5_000);
    result.recovery = {
      closedAfterMs: Math.max(...[...closed().values()].map((r) => r.at!)) - healed,
      reasons: [...closed().values()].map((r) => r.reason!).sort(),
    };
  }
  await command('pause', 'paused');
  return result;
}

describe.skipIf(!shared.available)('four replicas against a dead upstream', () => {
  it('with the Redis sync: ~1/4 of the upstream hits before all are open, one prober per open period, recovery closes all', async () => {
    // The outage found by one replica first: the others' traffic starts 150 ms apart.
    const alone = await outage(false, 150, PERIODS);
    const synced = await outage(true, 150, PERIODS);
    // The same load on all four from the same moment: each gets close to failMax before the first trips.
    const aloneTogether = await outage(false, 0);
    const syncedTogether = await outage(true, 0);
    const figures = {
      failMax: FAIL_MAX,
      inFlightPerReplica: CONCURRENCY,
      alone,
      synced,
      aloneTogether,
      syncedTogether,
    };
    console.log(`cluster test figures: ${JSON.stringify(figures)}`);

    // Alone, every replica pays failMax (and its calls in flight) to find the outage.
    expect(alone.hitsBeforeAllOpen).toBeGreaterThanOrEqual(REPLICAS * FAIL_MAX);
    expect(Object.values(alone.openedBy)).toEqual(Array(REPLICAS).fill('failure_count'));
    // Synced: one replica's failMax plus the calls in flight anywhere when it tripped.
    expect(synced.hitsBeforeAllOpen).toBeLessThanOrEqual(FAIL_MAX + REPLICAS * CONCURRENCY);
    expect(Object.values(synced.openedBy).filter((r) => r === 'peer_open')).toHaveLength(REPLICAS - 1);

    // Alone, each replica probes in each open period; synced, exactly one does, and nothing else reaches the upstream.
    // Counted per replica, not per group: under load the replicas' own periods drift apart, so
    // one period's trials can fall into two groups of the time-based grouping.
    const probesAlone = new Map<string, number>();
    for (const period of alone.periods!) {
      for (const worker of period.probers) probesAlone.set(worker, (probesAlone.get(worker) ?? 0) + 1);
    }
    expect(probesAlone.size).toBe(REPLICAS);
    for (const count of probesAlone.values()) expect(count).toBeGreaterThanOrEqual(PERIODS);
    expect(synced.periods!.length).toBeGreaterThanOrEqual(PERIODS);
    for (const period of synced.periods!) expect(period).toMatchObject({ trials: 1, probers: [expect.any(String)] });
    expect(synced.periods![0]!.other).toBe(0);

    // Recovery: one trial closes its replica, the closing closes the other three.
    expect(synced.recovery!.reasons).toEqual([...Array(REPLICAS - 1).fill('peer_close'), 'trial_success'].sort());
    expect(alone.recovery!.reasons).toEqual(Array(REPLICAS).fill('trial_success'));

    // From the same moment, each replica is near failMax when the first trips: the sync saves little,
    // and costs nothing (both stay within every replica's failMax and calls in flight).
    for (const run of [aloneTogether, syncedTogether]) {
      expect(run.hitsBeforeAllOpen).toBeLessThanOrEqual(REPLICAS * (FAIL_MAX + CONCURRENCY));
    }
  });
});
