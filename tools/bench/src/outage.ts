import { setTimeout as sleep } from 'node:timers/promises';
import { BreakerRegistry, type CircuitBreaker, loadConfig } from '@gl-vcci/breaker-core';
import type { KeyValueStore } from '@gl-vcci/breaker-core/client';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { createCacheClient } from '@gl-vcci/cache-client';
import { createDbClient } from '@gl-vcci/db-client';
import { createFactorClient } from '@gl-vcci/factor-client';
import { createLlmClient } from '@gl-vcci/llm-client';
import { startAnthropicSimulator } from '@gl-vcci/upstreams/anthropic';
import { startFactorBroker } from '@gl-vcci/upstreams/factor-broker';
import { startTcpProxy } from '@gl-vcci/upstreams/tcp-proxy';
import { Registry } from 'prom-client';
import { FACTOR, POSTGRES_URL, REDIS_URL } from './clients.js';
import { CONFIG_PATH } from './realistic.js';
import { fmtNumber as fmt } from './report.js';

/**
 * What an on-call engineer sees, per client, against a dead upstream (connections refused) and a
 * hung one (connections accepted, nothing ever answered): calls until the circuit opens at 1,000
 * calls/s, time per call once it is open, calls that reached the upstream during the outage, and
 * the time from the upstream's recovery to a closed circuit under the same load. Each client is
 * built through its own registry from the shipped config (production).
 */

type Mode = 'dead' | 'hung';

interface Target {
  client: string;
  circuit: string;
  call: () => Promise<unknown>;
  fail: (mode: Mode) => Promise<void>;
  heal: () => Promise<void>;
  /** Requests the upstream itself received (HTTP simulators), when it can tell. */
  received?: () => number;
  close: () => Promise<void>;
  registry: BreakerRegistry;
}

const NO_CACHE: KeyValueStore<never> = { get: async () => undefined, set: async () => {} };

function registry(): BreakerRegistry {
  const config = loadConfig(CONFIG_PATH, { environment: 'production' });
  return new BreakerRegistry({ config, metrics: { registry: new Registry() }, logger: silentLogger() });
}

async function dbTarget(): Promise<Target> {
  const url = new URL(POSTGRES_URL);
  const proxy = await startTcpProxy({ target: { host: url.hostname, port: Number(url.port || 5432) } });
  url.hostname = proxy.host;
  url.port = String(proxy.port);
  const r = registry();
  const db = createDbClient({ registry: r, connectionString: url.toString() });
  return {
    client: 'db-client query',
    circuit: 'database.postgres',
    call: () => db.query('SELECT $1::int', [1]),
    fail: (mode) => proxy.mode(mode === 'dead' ? 'cut' : 'blackhole'),
    heal: () => proxy.mode('pass'),
    close: async () => {
      await db.close({ timeoutMs: 1_000 }).catch(() => {});
      await proxy.close();
    },
    registry: r,
  };
}

async function cacheTarget(): Promise<Target> {
  const url = new URL(REDIS_URL);
  const proxy = await startTcpProxy({ target: { host: url.hostname, port: Number(url.port || 6379) } });
  url.hostname = proxy.host;
  url.port = String(proxy.port);
  const r = registry();
  const cache = createCacheClient({ url: url.toString(), registry: r, keyPrefix: 'bench:outage:' });
  await cache.set('k', 1, 60_000);
  return {
    client: 'cache-client get',
    circuit: 'cache.redis',
    call: () => cache.get('k'),
    fail: (mode) => proxy.mode(mode === 'dead' ? 'cut' : 'blackhole'),
    heal: () => proxy.mode('pass'),
    close: async () => {
      await cache.close();
      await proxy.close();
    },
    registry: r,
  };
}

async function factorTarget(): Promise<Target> {
  const sim = await startFactorBroker('ecoinvent', {});
  sim.setFactor('natural_gas', 'US', FACTOR);
  const r = registry();
  // A store that keeps nothing: every lookup goes live, so the circuit sees every call.
  const factors = createFactorClient({ registry: r, sources: { ecoinvent: { baseUrl: sim.url } }, cache: NO_CACHE });
  const query = { source: 'ecoinvent' as const, activity: 'natural_gas', region: 'US' };
  return {
    client: 'factor-client getFactor (live)',
    circuit: 'factor_broker.ecoinvent',
    call: () => factors.getFactor(query),
    fail: async (mode) => (mode === 'dead' ? sim.http.stop() : sim.mode('hang')),
    heal: async () => {
      sim.mode('healthy');
      await sim.http.start().catch(() => {});
    },
    received: () => sim.lookups(),
    close: async () => {
      await factors.close();
      await sim.close();
    },
    registry: r,
  };
}

async function llmTarget(): Promise<Target> {
  const sim = await startAnthropicSimulator();
  const r = registry();
  const llm = createLlmClient({
    registry: r,
    providers: { claude: { apiKey: 'sk-ant-bench', baseURL: sim.url, model: 'claude-sonnet-4-6', failover: false } },
  });
  return {
    client: 'llm-client generate',
    circuit: 'llm_providers.claude',
    call: () => llm.generate({ prompt: 'hi', maxTokens: 16, temperature: 0.7 }),
    fail: async (mode) => (mode === 'dead' ? sim.stop() : sim.mode('*', 'hang')),
    heal: async () => {
      sim.mode('*', 'healthy');
      await sim.start().catch(() => {});
    },
    received: () => sim.messages.length,
    close: async () => {
      await llm.close();
      await sim.close();
    },
    registry: r,
  };
}

const TARGETS = [dbTarget, cacheTarget, factorTarget, llmTarget];

export interface OutageRow {
  client: string;
  circuit: string;
  mode: Mode;
  callsUntilOpen: number | undefined;
  secondsUntilOpen: number | undefined;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  /** Calls the circuit let run (requests that went out) during the outage. */
  admitted: number;
  /** Requests the upstream received, where it can count them. */
  received: number | undefined;
  budget: number;
  opened: boolean;
  /** Calls not issued because MAX_IN_FLIGHT were already in flight. */
  skipped: number;
  recoveryS: number | undefined;
  recoveryCapS: number;
}

/**
 * Counts the calls the circuit lets run: its `execute` and `tryExecute` are wrapped on this one
 * instance (the client holds the same object), and the count moves when the circuit invokes the
 * protected function, which is when the client's request goes out.
 */
function countRuns(breaker: CircuitBreaker): () => number {
  let runs = 0;
  const b = breaker as unknown as Record<
    'execute' | 'tryExecute',
    (fn: (s: AbortSignal) => unknown, o?: unknown) => unknown
  >;
  for (const method of ['execute', 'tryExecute'] as const) {
    const original = b[method].bind(breaker);
    // Of the same arity as the client's function: one that takes no signal is given none.
    b[method] = (fn, o) =>
      original(
        fn.length === 0
          ? () => {
              runs++;
              return (fn as () => unknown)();
            }
          : (signal: AbortSignal) => {
              runs++;
              return fn(signal);
            },
        o,
      );
  }
  return () => runs;
}

function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * At most this many calls in flight: against a hung upstream with a 60 s deadline, 1,000 calls/s
 * would open 10,000 sockets on each side of the simulator, in one process: past its file limit.
 * Calls due while the cap is reached are not issued, and counted.
 */
const MAX_IN_FLIGHT = 4_000;

/** Fires 1,000 calls per second (not awaited one by one) until `until()` or `ms` have passed; returns calls skipped at the cap. */
async function drive(
  call: () => Promise<unknown>,
  ms: number,
  onCall: (started: number, settled: Promise<unknown>) => void,
  until?: () => boolean,
): Promise<number> {
  const start = performance.now();
  let due = 0;
  let inFlight = 0;
  let skipped = 0;
  while (performance.now() - start < ms) {
    const now = Math.floor(performance.now() - start); // one per ms
    while (due < now) {
      due++;
      if (inFlight >= MAX_IN_FLIGHT) {
        skipped++;
        continue;
      }
      inFlight++;
      const at = performance.now();
      const settled = call().then(
        () => true,
        () => false,
      );
      void settled.then(() => inFlight--);
      onCall(at, settled);
    }
    if (until?.()) return skipped;
    await sleep(1);
  }
  return skipped;
}

async function measureOutage(make: () => Promise<Target>, mode: Mode, seconds: number, capS: number) {
  const t = await make();
  try {
    for (let i = 0; i < 50; i++) await t.call(); // healthy and warm
    const breaker = t.registry.get(t.circuit) as CircuitBreaker;
    breaker.reset();
    const { failMax, minimumCalls, openDurationMs, halfOpenMaxCalls, failureRateThreshold } = breaker.config;
    const tripAt = Number.isFinite(failMax) ? failMax : failureRateThreshold !== undefined ? minimumCalls : Infinity;
    const budget = tripAt + halfOpenMaxCalls * Math.ceil((seconds * 1000) / openDurationMs);
    const runs = countRuns(breaker);
    const received0 = t.received?.();
    await t.fail(mode);
    const start = performance.now();
    let issued = 0;
    let openAt: number | undefined;
    let callsUntilOpen: number | undefined;
    const afterTrip: number[] = [];
    const skipped = await drive(t.call, seconds * 1000, (at, settled) => {
      issued++;
      if (openAt === undefined && breaker.state === 'open') {
        openAt = at;
        callsUntilOpen = issued - 1;
      }
      if (openAt !== undefined) void settled.then(() => afterTrip.push(performance.now() - at));
    });
    const admitted = runs();
    const received = t.received && received0 !== undefined ? t.received() - received0 : undefined;
    afterTrip.sort((a, b) => a - b);
    // Recovery: the upstream is back; same load until the circuit is closed again.
    await t.heal();
    const healed = performance.now();
    let closedAt: number | undefined;
    await drive(
      t.call,
      capS * 1000,
      () => {},
      () => {
        if (breaker.state === 'closed') closedAt ??= performance.now();
        return closedAt !== undefined;
      },
    );
    return {
      client: t.client,
      circuit: t.circuit,
      mode,
      callsUntilOpen,
      secondsUntilOpen: openAt === undefined ? undefined : (openAt - start) / 1000,
      p50Ms: percentile(afterTrip, 50),
      p99Ms: percentile(afterTrip, 99),
      admitted,
      received,
      budget,
      opened: openAt !== undefined,
      skipped,
      recoveryS: closedAt === undefined ? undefined : (closedAt - healed) / 1000,
      recoveryCapS: capS,
    } satisfies OutageRow;
  } finally {
    await t.close();
  }
}

export async function measureOutages(quick: boolean, log: (m: string) => void): Promise<OutageRow[]> {
  const seconds = quick ? 2 : 10;
  const cap = quick ? 15 : 75;
  const rows: OutageRow[] = [];
  for (const make of TARGETS) {
    for (const mode of ['dead', 'hung'] as const) {
      const row = await measureOutage(make, mode, seconds, cap);
      log(`  outage ${row.client} ${mode} done`);
      rows.push(row);
    }
  }
  return rows;
}

export async function outageSection(options: { quick: boolean; log: (m: string) => void }): Promise<string[]> {
  const seconds = options.quick ? 2 : 10;
  const rows = await measureOutages(options.quick, options.log);
  const ms = (n: number | undefined) => (n === undefined ? '—' : fmt(n, n < 10 ? 2 : 0));
  return [
    `## Outages: a dead and a hung upstream, ${fmt(seconds)} s at 1,000 calls/s`,
    '',
    'Dead: connections refused (TCP proxy `cut` in front of PostgreSQL and Redis; simulator stopped). Hung: connections accepted and nothing answered (proxy `blackhole`; simulator `hang`). Calls are fired on a 1,000/s schedule, not one after the other, as a busy service would. "Calls until open" counts the calls started before the circuit was first seen open; "after trip" is the time each later call took; "requests let out" is the calls the circuit let run, counted where it invokes the request (in flight ones included), and in brackets the simulator\'s own request count where there is one; the budget is the trip threshold (failMax, or minimumCalls for a rate-only circuit) plus one trial per open period. Recovery: the upstream is healed and the same load runs until the circuit is closed.',
    '',
    '| client (circuit) | upstream | calls until open | time to open (s) | after trip p50 / p99 (ms) | requests let out (received) | budget | recovery → closed (s) | targets |',
    '|---|---|--:|--:|--:|--:|--:|--:|---|',
    ...rows.map((r) => {
      const p99ok = r.p99Ms !== undefined && r.p99Ms <= 1;
      const budgetOk = r.admitted <= r.budget;
      const verdict = `p99 ≤ 1 ms: **${p99ok ? 'met' : 'missed'}**; ≤ budget: **${budgetOk ? 'met' : 'missed'}**`;
      return `| ${r.client} (${r.circuit}) | ${r.mode} | ${r.callsUntilOpen === undefined ? `not open in ${seconds} s` : fmt(r.callsUntilOpen)} | ${r.secondsUntilOpen === undefined ? '—' : fmt(r.secondsUntilOpen, 2)} | ${ms(r.p50Ms)} / ${ms(r.p99Ms)} | ${fmt(r.admitted)}${r.received === undefined ? '' : ` (${fmt(r.received)})`}${r.skipped > 0 ? ` [${fmt(r.skipped)} not issued: ${fmt(MAX_IN_FLIGHT)} in flight]` : ''} | ${fmt(r.budget)} | ${!r.opened ? '—' : r.recoveryS === undefined ? `> ${r.recoveryCapS}` : fmt(r.recoveryS, 2)} | ${verdict} |`;
    }),
    '',
  ];
}
