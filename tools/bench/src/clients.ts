import Anthropic from '@anthropic-ai/sdk';
import { BreakerRegistry, loadConfig } from '@gl-vcci/breaker-core';
import type { KeyValueStore } from '@gl-vcci/breaker-core/client';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { createCacheClient } from '@gl-vcci/cache-client';
import { createDbClient } from '@gl-vcci/db-client';
import { createFactorClient } from '@gl-vcci/factor-client';
import { createLlmClient } from '@gl-vcci/llm-client';
import { startAnthropicSimulator } from '@gl-vcci/upstreams/anthropic';
import { startFactorBroker } from '@gl-vcci/upstreams/factor-broker';
import axios from 'axios';
import Opossum from 'opossum';
import pg from 'pg';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import { median } from './harness.js';
import { CONFIG_PATH } from './realistic.js';
import { fmtNumber as fmt } from './report.js';

/**
 * Each client against its bare SDK and the same SDK wrapped in opossum, against the real local
 * servers (PostgreSQL, Redis) and the local simulators (factor broker, Anthropic): sequential
 * awaited calls, interleaved rounds, medians. The clients are built through one registry from the
 * shipped config (production), metrics on, as an application would.
 */

export const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const FACTOR = { value: 53.06, unit: 'kg CO2/mmBtu', year: 2024 };

type Call = () => Promise<unknown>;
interface Row {
  group: string;
  label: string;
  /** 'bare' is the reference of its group, 'opossum' the peer, 'ours' the client. */
  kind: 'bare' | 'opossum' | 'ours';
  call: Call;
}

/** A store that keeps nothing: every getFactor goes live. */
const NO_CACHE: KeyValueStore<never> = { get: async () => undefined, set: async () => {} };

export async function buildClients() {
  const config = loadConfig(CONFIG_PATH, { environment: 'production' });
  const registry = new BreakerRegistry({ config, metrics: { registry: new Registry() }, logger: silentLogger() });
  const closers: Array<() => Promise<unknown> | unknown> = [];
  const rows: Row[] = [];

  // PostgreSQL
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 10 });
  closers.push(() => pool.end());
  const poolQuery = () => pool.query('SELECT $1::int', [1]);
  const pgBreaker = new Opossum(poolQuery, { timeout: 6_000 });
  closers.push(() => pgBreaker.shutdown());
  const db = createDbClient({ registry, connectionString: POSTGRES_URL });
  closers.push(() => db.close());
  rows.push(
    { group: 'PostgreSQL SELECT $1::int', label: 'pg.Pool.query', kind: 'bare', call: poolQuery },
    { group: 'PostgreSQL SELECT $1::int', label: 'opossum(pool.query)', kind: 'opossum', call: () => pgBreaker.fire() },
    {
      group: 'PostgreSQL SELECT $1::int',
      label: 'db-client query',
      kind: 'ours',
      call: () => db.query('SELECT $1::int', [1]),
    },
  );

  // Redis
  const redis = createClient({ url: REDIS_URL });
  redis.on('error', () => {});
  await redis.connect();
  closers.push(() => redis.quit());
  await redis.set('bench:k', JSON.stringify({ v: 1 }));
  // The JSON work a caller of node-redis does itself to cache a value, as cache-client does.
  const redisGet = async () => JSON.parse((await redis.get('bench:k'))!) as unknown;
  const redisSet = () => redis.set('bench:s', JSON.stringify({ v: 1 }), { PX: 300_000 });
  const getBreaker = new Opossum(redisGet, { timeout: 500 });
  const setBreaker = new Opossum(redisSet, { timeout: 500 });
  closers.push(
    () => getBreaker.shutdown(),
    () => setBreaker.shutdown(),
  );
  const cache = createCacheClient({ url: REDIS_URL, registry, keyPrefix: 'bench:' });
  closers.push(() => cache.close());
  await cache.set('k', { v: 1 }, 300_000);
  rows.push(
    { group: 'Redis GET', label: 'node-redis get + JSON.parse', kind: 'bare', call: redisGet },
    { group: 'Redis GET', label: 'opossum(get)', kind: 'opossum', call: () => getBreaker.fire() },
    { group: 'Redis GET', label: 'cache-client get', kind: 'ours', call: () => cache.get('k') },
    { group: 'Redis SET', label: 'node-redis set + JSON.stringify', kind: 'bare', call: redisSet },
    { group: 'Redis SET', label: 'opossum(set)', kind: 'opossum', call: () => setBreaker.fire() },
    { group: 'Redis SET', label: 'cache-client set', kind: 'ours', call: () => cache.set('s', { v: 1 }, 300_000) },
  );

  // Factor broker (ecoinvent shape)
  const broker = await startFactorBroker('ecoinvent', {});
  broker.setFactor('natural_gas', 'US', FACTOR);
  closers.push(() => broker.close());
  const http = axios.create({ baseURL: broker.url, timeout: 5_000 });
  const axiosGet = () => http.get('/v1/factors/natural_gas', { params: { geography: 'US' } });
  const axiosBreaker = new Opossum(axiosGet, { timeout: 5_000 });
  closers.push(() => axiosBreaker.shutdown());
  const live = createFactorClient({ registry, sources: { ecoinvent: { baseUrl: broker.url } }, cache: NO_CACHE });
  const cached = createFactorClient({
    registry: new BreakerRegistry({ config, metrics: { registry: new Registry() }, logger: silentLogger() }),
    sources: { ecoinvent: { baseUrl: broker.url } },
  });
  closers.push(
    () => live.close(),
    () => cached.close(),
  );
  const query = { source: 'ecoinvent' as const, activity: 'natural_gas', region: 'US' };
  await cached.getFactor(query);
  rows.push(
    { group: 'factor GET (HTTP simulator)', label: 'axios GET', kind: 'bare', call: axiosGet },
    {
      group: 'factor GET (HTTP simulator)',
      label: 'opossum(axios GET)',
      kind: 'opossum',
      call: () => axiosBreaker.fire(),
    },
    {
      group: 'factor GET (HTTP simulator)',
      label: 'factor-client getFactor, live',
      kind: 'ours',
      call: () => live.getFactor(query),
    },
    {
      group: 'factor GET (HTTP simulator)',
      label: 'factor-client getFactor, fresh cache',
      kind: 'ours',
      call: () => cached.getFactor(query),
    },
  );

  // Anthropic (simulator)
  const claude = await startAnthropicSimulator();
  closers.push(() => claude.close());
  const sdk = new Anthropic({ apiKey: 'sk-ant-bench', baseURL: claude.url, maxRetries: 0 });
  const model = 'claude-sonnet-4-6';
  const create = () => sdk.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
  const sdkBreaker = new Opossum(create, { timeout: 60_000 });
  closers.push(() => sdkBreaker.shutdown());
  const llm = createLlmClient({
    registry,
    providers: { claude: { apiKey: 'sk-ant-bench', baseURL: claude.url, model, failover: false } },
  });
  closers.push(() => llm.close());
  rows.push(
    { group: 'LLM generate (Anthropic simulator)', label: 'Anthropic SDK messages.create', kind: 'bare', call: create },
    {
      group: 'LLM generate (Anthropic simulator)',
      label: 'opossum(messages.create)',
      kind: 'opossum',
      call: () => sdkBreaker.fire(),
    },
    {
      group: 'LLM generate (Anthropic simulator)',
      label: 'llm-client generate',
      kind: 'ours',
      call: () => llm.generate({ prompt: 'hi', maxTokens: 64, temperature: 0.7 }),
    },
  );

  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  return {
    rows,
    close,
    counts: { factorRequests: () => broker.lookups(), claudeRequests: () => claude.messages.length },
  };
}

/** Mean µs per call over `calls` sequential awaited calls, and this process's CPU µs per call. */
async function batch(call: Call, calls: number): Promise<number> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await call();
  const wall = Number(process.hrtime.bigint() - start) / 1_000 / calls;
  const used = process.cpuUsage(cpu);
  lastCpu = (used.user + used.system) / calls;
  return wall;
}
let lastCpu = 0;

export interface ClientRow {
  group: string;
  label: string;
  kind: Row['kind'];
  us: number;
  min: number;
  max: number;
  /** Median over rounds of (this − bare) in the same round, µs. */
  over?: number;
  /** Median over rounds of (this − bare) in this process's CPU µs per call: the client's own work, steadier than wall time. */
  cpuOver?: number;
  /** This process's CPU µs per call (median over rounds): the client's own work, whatever the server does. */
  cpu: number;
}

export async function measureClients(
  rounds: number,
  calls: number,
  log: (m: string) => void,
  only?: string,
): Promise<ClientRow[]> {
  const built = await buildClients();
  const { close } = built;
  const rows = only ? built.rows.filter((r) => r.group.toLowerCase().includes(only.toLowerCase())) : built.rows;
  try {
    for (const row of rows) await batch(row.call, Math.min(calls, 500)); // warm every path once
    const values = new Map<Row, number[]>(rows.map((r) => [r, []]));
    const over = new Map<Row, number[]>(rows.map((r) => [r, []]));
    const cpu = new Map<Row, number[]>(rows.map((r) => [r, []]));
    const cpuOver = new Map<Row, number[]>(rows.map((r) => [r, []]));
    let seed = 7;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    for (let round = 0; round < rounds; round++) {
      // Group by group; inside a round each group's rows run in a shuffled order, then the differences.
      const groups = [...new Set(rows.map((r) => r.group))];
      for (const group of groups) {
        const members = rows.filter((r) => r.group === group).sort(() => random() - 0.5);
        const got = new Map<Row, number>();
        const used = new Map<Row, number>();
        for (const r of members) {
          got.set(r, await batch(r.call, calls));
          used.set(r, lastCpu);
          cpu.get(r)!.push(lastCpu);
        }
        const bare = rows.find((r) => r.group === group && r.kind === 'bare')!;
        for (const r of members) {
          values.get(r)!.push(got.get(r)!);
          if (r === bare) continue;
          over.get(r)!.push(got.get(r)! - got.get(bare)!);
          cpuOver.get(r)!.push(used.get(r)! - used.get(bare)!);
        }
      }
      log(`  clients round ${round + 1} done`);
    }
    return rows.map((r) => {
      const v = values.get(r)!;
      const o = over.get(r)!;
      return {
        group: r.group,
        label: r.label,
        kind: r.kind,
        us: median(v),
        min: Math.min(...v),
        max: Math.max(...v),
        over: o.length > 0 ? median(o) : undefined,
        cpuOver: o.length > 0 ? median(cpuOver.get(r)!) : undefined,
        cpu: median(cpu.get(r)!),
      };
    });
  } finally {
    await close();
  }
}

/** Goal: the client adds ≤ 3 % or ≤ 5 µs (whichever is larger) to a healthy call, and less than opossum. */
export function clientVerdict(row: ClientRow, rows: ClientRow[]): string {
  if (row.kind !== 'ours' || row.over === undefined) return '';
  const bare = rows.find((r) => r.group === row.group && r.kind === 'bare')!;
  const opossum = rows.find((r) => r.group === row.group && r.kind === 'opossum');
  const allowed = Math.max(0.03 * bare.us, 5);
  const small = row.over <= allowed;
  const belowOpossum = opossum?.over === undefined || row.over < opossum.over;
  const met = small && belowOpossum;
  return `≤ ${fmt(allowed, 1)} µs and < opossum: **${met ? 'met' : 'missed'}**${met ? '' : ` (${small ? '' : 'over budget'}${!small && !belowOpossum ? ', ' : ''}${belowOpossum ? '' : 'not below opossum'})`}`;
}

export async function clientsSection(options: { quick: boolean; log: (m: string) => void }): Promise<string[]> {
  // Many short rounds rather than a few long ones: the machine's drift (another process, a GC of
  // the previous subject's garbage) then lands in few pairs, and the median of the pairs ignores it.
  const rounds = options.quick ? 5 : 21;
  const calls = options.quick ? 200 : 600;
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const rows = await measureClients(rounds, calls, options.log, only);
  const sign = (n: number) => `${n < 0 ? '−' : '+'}${fmt(Math.abs(n), 1)}`;
  return [
    '## Clients against their bare SDK and opossum',
    '',
    `Sequential awaited calls against the real local PostgreSQL and Redis and the local simulators (tools/upstreams); ${rounds} rounds of ${fmt(calls)} calls, each group's subjects shuffled within a round; medians over rounds. "Over bare" is the median over rounds of (subject − bare SDK) in the same round, in wall time and in this process's CPU time (the client's own work, whatever the server does; it carries the GC of whatever ran before, so read both). The bare Redis calls include the JSON work a caller does to cache a value, as cache-client does it. Clients are built through one registry from the shipped config (production), metrics on. "live" factor lookups use a store that keeps nothing, so every lookup is a request; "fresh cache" is the default client after one lookup. The target is checked on the wall-time difference.`,
    '',
    '| call | subject | µs/call (median) | min–max over rounds | over bare (µs) | over bare (%) | CPU over bare (µs) | CPU µs/call (this process) | target |',
    '|---|---|--:|--:|--:|--:|--:|--:|---|',
    ...rows.map((r) => {
      const bare = rows.find((b) => b.group === r.group && b.kind === 'bare')!;
      const over = r.over === undefined ? '' : sign(r.over);
      const pct = r.over === undefined ? '' : `${sign((100 * r.over) / bare.us)} %`;
      const cpuOver = r.cpuOver === undefined ? '' : sign(r.cpuOver);
      return `| ${r.group} | ${r.label} | ${fmt(r.us, 1)} | ${fmt(r.min, 1)}–${fmt(r.max, 1)} | ${over} | ${pct} | ${cpuOver} | ${fmt(r.cpu, 1)} | ${clientVerdict(r, rows)} |`;
    }),
    '',
  ];
}
