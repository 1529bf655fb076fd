import { loadFactorDefaults } from '@gl-vcci/factor-client';
import cliProgress from 'cli-progress';
import type { ActivityRecord, Calculation } from './agents/calculator.js';
import type { Demo, Transition } from './app.js';
import { ACTIVITIES, DESNZ, ECOINVENT } from './catalog.js';
import { type CircuitView, circuitViews } from './circuits.js';

export interface ScenarioOptions {
  /** Where the timeline goes, one line at a time. */
  out?: (line: string) => void;
  /** Show progress bars (cli-progress) on stdout. */
  progress?: boolean;
}

export interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Latency {
  n: number;
  p50: number;
  p99: number;
}

export interface ScenarioResult {
  ok: boolean;
  invariants: Invariant[];
  table: string;
  views: CircuitView[];
  latency: { beforeTrip: Latency; afterTrip: Latency };
  calculations: number;
  reports: string[];
  durationMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

function latencyOf(calculations: Calculation[]): Latency {
  const ms = calculations.map((c) => c.latencyMs);
  return { n: ms.length, p50: round1(percentile(ms, 50)), p99: round1(percentile(ms, 99)) };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const isFuel = (activity: string) => ACTIVITIES[activity]?.unit === 'mmBtu';
const record = (activity: string, region: string, quantity: number): ActivityRecord => ({
  activity,
  region,
  quantity,
  unit: ACTIVITIES[activity]!.unit,
});

/** Counts of a list by a key, as `live 12, cache 8`. */
function countBy<T>(items: T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
}

/**
 * The scripted outage: healthy traffic, an ecoinvent outage, its recovery, an Anthropic 429 storm,
 * a hanging SAP, SendGrid down and a PostgreSQL blip, narrated as a timeline; then a table per
 * circuit and the invariants (no calculation lost, every report delivered once, every value's
 * provenance honest).
 */
export async function runScenario(demo: Demo, options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const out = options.out ?? ((line: string) => console.log(line));
  const short = demo.short;
  const started = Date.now();
  const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s]`;
  const say = (line: string) => out(`${stamp()} ${line}`);
  const phase = (title: string) => out(`\n${stamp()} ── ${title} ${'─'.repeat(Math.max(0, 66 - title.length))}`);
  const { calculator, intake, reporting } = demo.agents;
  const { controls, sendgrid } = demo.upstreams;
  const control = (name: string) => controls.get(name)!;

  const unsubscribe = demo.onTransition((t: Transition) => {
    const why = t.error ? ` — ${t.error.slice(0, 90)}` : '';
    say(`   ⚡ ${t.circuitName}: ${t.from} → ${t.to} (${t.reason})${why}`);
  });

  const all: Calculation[] = [];
  const failures: string[] = [];
  const outageLive: Calculation[] = [];
  const reports: string[] = [];
  let latency: { beforeTrip: Latency; afterTrip: Latency } = { beforeTrip: latencyOf([]), afterTrip: latencyOf([]) };
  const batch = async (records: ActivityRecord[], label: string, concurrency = 4) => {
    const bar =
      options.progress === true
        ? new cliProgress.SingleBar(
            {
              format: `          ${label.padEnd(28)} [{bar}] {value}/{total}`,
              noTTYOutput: !process.stdout.isTTY,
              notTTYSchedule: 1_000,
              stream: process.stdout,
              hideCursor: false,
            },
            cliProgress.Presets.legacy,
          )
        : undefined;
    bar?.start(records.length, 0);
    const result = await calculator.calculateBatch(records, {
      concurrency,
      onProgress: (done) => bar?.update(done),
    });
    bar?.stop();
    all.push(...result.calculations);
    failures.push(...result.failures.map((f) => `${f.record.activity}/${f.record.region}: ${f.error}`));
    return result.calculations;
  };
  const provenance = (cs: Calculation[]) => countBy(cs, (c) => c.factor.source);

  // Keys: the healthy phase warms the cache with these; the outage asks them again (cache) and
  // others never asked before (UK factors: DESNZ failover; US fuels: the cited EPA defaults).
  const warm = Object.entries(ECOINVENT).flatMap(([a, regions]) =>
    Object.keys(regions)
      .filter((r) => r !== 'GB' && !isFuel(a))
      .map((r) => ({ a, r })),
  );
  const cold = Object.entries(ECOINVENT).flatMap(([a, regions]) =>
    Object.keys(regions)
      .filter((r) => r === 'GB' || isFuel(a))
      .map((r) => ({ a, r })),
  );
  let q = 0;
  const qty = () => 100 + ((q++ * 37) % 900);

  out(`GL-VCCI demo — run ${demo.runId}${short ? ' (short mode)' : ''}`);
  say(`${demo.backends.postgres.describe}`);
  say(`${demo.backends.redis.describe}`);

  try {
    // 1. Healthy traffic.
    phase('1. healthy traffic');
    const healthy = await batch(
      [...warm, ...(short ? [] : warm)].map(({ a, r }) => record(a, r, qty())),
      'calculations',
    );
    say(`calculator: ${healthy.length} calculations, provenance: ${provenance(healthy)}`);
    const sap = await intake.run({ system: 'sap' });
    say(
      `intake sap: ${sap.suppliers.count} suppliers (${sap.suppliers.source}), ${sap.orderLines.count} order lines (${sap.orderLines.source}), classified: ${JSON.stringify(sap.classified)}`,
    );
    const r1 = await reporting.send({ to: 'cfo@gl-vcci.example' });
    reports.push(r1.id);
    say(`report ${r1.id}: ${r1.status}, ${r1.suppliers} suppliers, ${r1.totalKg} kg CO2e`);

    // 2. ecoinvent outage.
    phase('2. ecoinvent outage: the broker hangs');
    await control('ecoinvent').break();
    const breakAt = Date.now();
    say(`ecoinvent ${control('ecoinvent').fault}; calls wait for the circuit's deadline until it trips`);
    const mixed = (n: number) => [
      ...cold.map(({ a, r }) => record(a, r, qty())),
      ...warm.slice(0, n).map(({ a, r }) => record(a, r, qty())),
    ];
    const waveA = await batch(mixed(short ? 6 : 10), 'outage, wave 1');
    const waves = short ? 1 : 2;
    const waveB: Calculation[] = [];
    for (let i = 0; i < waves; i++) waveB.push(...(await batch(mixed(short ? 6 : 10), `outage, wave ${i + 2}`)));
    const outage = [...waveA, ...waveB];
    outageLive.push(...outage.filter((c) => c.factor.source === 'live'));
    const trip = demo.transitions.find(
      (t) => t.circuitName === 'factor_broker.ecoinvent' && t.to === 'open' && t.wallAt >= breakAt,
    );
    const tripAt = trip?.wallAt ?? Number.POSITIVE_INFINITY;
    const before = latencyOf(outage.filter((c) => c.startedAt < tripAt));
    const after = latencyOf(outage.filter((c) => c.startedAt >= tripAt));
    latency = { beforeTrip: before, afterTrip: after };
    say(`calculator during the outage: ${outage.length} calculations, provenance: ${provenance(outage)}`);
    for (const source of ['cache', 'failover', 'default']) {
      const c = outage.find((x) => x.factor.source === source);
      if (!c) continue;
      say(
        `   e.g. ${c.record.activity}/${c.record.region}: ${c.factor.value} ${c.factor.unit} from ${c.factor.provider} (${c.factor.source}, quality ${c.factor.quality}) — ${c.factor.factorSource}`,
      );
    }
    say(`latency before the trip: p50 ${before.p50} ms, p99 ${before.p99} ms (n=${before.n})`);
    say(`latency after the trip:  p50 ${after.p50} ms, p99 ${after.p99} ms (n=${after.n})`);

    // 3. Recovery.
    phase('3. ecoinvent recovers');
    await control('ecoinvent').heal();
    const ecoinvent = demo.registry.get('factor_broker.ecoinvent')!;
    const waitUntil = ecoinvent.snapshot().nextTrialAt;
    if (waitUntil !== undefined && waitUntil > Date.now()) {
      say(
        `ecoinvent answers again; the circuit lets a trial through in ${Math.ceil((waitUntil - Date.now()) / 1000)} s`,
      );
      await sleep(waitUntil - Date.now() + 50);
    }
    for (let i = 0; i < 5 && ecoinvent.state !== 'closed'; i++) {
      const rec = await batch(
        cold.map(({ a, r }) => record(a, r, qty())),
        'recovery',
        2,
      );
      say(`calculator: ${rec.length} calculations, provenance: ${provenance(rec)}`);
    }
    say(`factor_broker.ecoinvent is ${ecoinvent.state}`);

    // 4. Anthropic 429 storm.
    phase('4. Anthropic 429 storm: failover to OpenAI');
    await control('anthropic').break();
    say(`anthropic ${control('anthropic').fault}`);
    const oracle = await intake.run({ system: 'oracle' });
    say(
      `intake oracle: ${oracle.suppliers.count} suppliers (${oracle.suppliers.source}), classified: ${JSON.stringify(oracle.classified)}`,
    );
    await control('anthropic').heal();
    const claude = demo.registry.get('llm_providers.claude')!;
    const trialAt = claude.snapshot().nextTrialAt;
    if (trialAt !== undefined && trialAt > Date.now()) {
      say(
        `anthropic answers again; llm_providers.claude lets a trial through in ${Math.ceil((trialAt - Date.now()) / 1000)} s`,
      );
      await sleep(trialAt - Date.now() + 50);
    }
    const workday = await intake.run({ system: 'workday' });
    say(
      `intake workday: ${workday.suppliers.count} suppliers (${workday.suppliers.source}), classified: ${JSON.stringify(workday.classified)}`,
    );

    // 5. SAP hangs.
    phase('5. SAP hangs: deadline, then the cached supplier list');
    await control('sap').break();
    say(`sap ${control('sap').fault}`);
    const t5 = Date.now();
    const sapHung = await intake.run({ system: 'sap' });
    say(
      `intake sap in ${((Date.now() - t5) / 1000).toFixed(1)} s: ${sapHung.suppliers.count} suppliers (${sapHung.suppliers.source}, ${Math.round((sapHung.suppliers.ageMs ?? 0) / 1000)} s old), ${sapHung.orderLines.count} order lines (${sapHung.orderLines.source}), classified: ${JSON.stringify(sapHung.classified)}`,
    );
    await control('sap').heal();

    // 6. SendGrid down.
    phase('6. SendGrid down: reports queued, drained on recovery');
    await control('sendgrid').break();
    say(`sendgrid ${control('sendgrid').fault}`);
    for (let i = 0; i < (short ? 2 : 3); i++) {
      const r = await reporting.send({ to: 'cfo@gl-vcci.example' });
      reports.push(r.id);
      say(`report ${r.id}: ${r.status}`);
    }
    const depth = async () => {
      const s = await demo.clients.email.queueStats();
      return s.depth.high + s.depth.normal + s.depth.low;
    };
    say(`outbox holds ${await depth()} mail(s)`);
    await sleep(short ? 800 : 2_500);
    await control('sendgrid').heal();
    say('sendgrid answers again');
    const drainDeadline = Date.now() + 20_000;
    while ((await depth()) > 0 && Date.now() < drainDeadline) await sleep(200);
    say(`outbox holds ${await depth()} mail(s); SendGrid accepted ${sendgrid.accepted.length} in all`);

    // 7. PostgreSQL blip.
    phase('7. PostgreSQL blip: the connection is cut');
    await control('postgres').break();
    say(`postgres ${control('postgres').fault}`);
    const during = await batch(
      warm.slice(0, short ? 14 : 20).map(({ a, r }) => record(a, r, qty())),
      'calculations, db down',
    );
    say(
      `calculator: ${during.length} calculations answered (factors: ${provenance(during)}); ${demo.calculationLog.pending} waiting to be written`,
    );
    try {
      const r = await reporting.send({ to: 'cfo@gl-vcci.example', id: `report-${demo.runId}-db-blip` });
      reports.push(r.id);
      say(`report ${r.id}: ${r.status}`);
    } catch (error) {
      say(`report refused at once: ${(error as Error).message.slice(0, 100)}`);
    }
    await sleep(short ? 500 : 2_000);
    await control('postgres').heal();
    say('postgres answers again');
    const flushDeadline = Date.now() + 20_000;
    while (demo.calculationLog.pending > 0 && Date.now() < flushDeadline) {
      await demo.calculationLog.flush();
      await sleep(200);
    }
    say(`calculations waiting to be written: ${demo.calculationLog.pending}`);
    const retried = await reporting.send({ to: 'cfo@gl-vcci.example', id: `report-${demo.runId}-db-blip` });
    if (!reports.includes(retried.id)) reports.push(retried.id);
    say(
      `report ${retried.id}: ${retried.status}${retried.duplicate ? ' (already queued or sent: not sent twice)' : ''}`,
    );
    const end = Date.now() + 10_000;
    while ((await depth()) > 0 && Date.now() < end) await sleep(200);
  } finally {
    unsubscribe();
  }

  // Invariants.
  await demo.calculationLog.flush();
  const stored = await demo.calculationLog.count().catch(() => -1);
  const defaults = loadFactorDefaults();
  const dishonest = all.filter((c) => {
    const { activity, region } = c.record;
    const f = c.factor;
    if (f.source === 'live' || f.source === 'cache' || f.source === 'stale')
      return f.provider !== 'ecoinvent' || f.value !== ECOINVENT[activity]?.[region];
    if (f.source === 'failover') return f.provider !== 'desnz' || f.value !== DESNZ[activity]?.[region];
    if (f.source === 'default') {
      const row = defaults.find((d) => d.activity === activity && d.region === region && d.unit === f.unit);
      return f.provider !== 'defaults' || f.quality !== 'low' || row?.value !== f.value;
    }
    return true;
  });
  const counts = sendgrid.deliveryCounts();
  const notOnce = reports.filter((id) => counts.get(id) !== 1).map((id) => `${id}: ${counts.get(id) ?? 0}`);
  const invariants: Invariant[] = [
    {
      name: 'no calculation lost',
      ok: failures.length === 0 && stored === all.length && demo.calculationLog.pending === 0,
      detail: `${all.length} calculated, ${failures.length} failed, ${stored} stored in PostgreSQL, ${demo.calculationLog.pending} pending${failures.length ? ` — ${failures.slice(0, 3).join('; ')}` : ''}`,
    },
    {
      name: 'every report delivered once',
      ok: notOnce.length === 0 && reports.length > 0,
      detail: `${reports.length} reports, SendGrid deliveries per report: ${reports.map((id) => counts.get(id) ?? 0).join(', ')}${notOnce.length ? ` — wrong: ${notOnce.join(', ')}` : ''}`,
    },
    {
      name: "every value's provenance honest",
      ok: dishonest.length === 0 && outageLive.length === 0,
      detail: `${all.length - dishonest.length}/${all.length} values match the source they name; ${outageLive.length} claimed live during the outage${dishonest.length ? ` — e.g. ${JSON.stringify(dishonest[0])}` : ''}`,
    },
  ];
  const views = await circuitViews(demo);
  const broken = [...controls.values()].map((c) => c.circuit);
  const stillOpen = views.filter((v) => broken.includes(v.name) && v.name !== 'cache.redis' && v.state !== 'closed');
  invariants.push({
    name: 'every circuit the scenario opened closed again',
    ok: stillOpen.length === 0,
    detail: stillOpen.length ? stillOpen.map((v) => `${v.name} is ${v.state}`).join(', ') : 'all closed',
  });

  const table = renderTable(views);
  return {
    ok: invariants.every((i) => i.ok),
    invariants,
    table,
    views,
    latency,
    calculations: all.length,
    reports,
    durationMs: Date.now() - started,
  };
}

export function renderTable(views: CircuitView[]): string {
  const rows = views.map((v) => [
    v.name,
    v.state,
    String(v.calls),
    String(v.failures + v.timeouts),
    String(v.rejections),
    Object.entries(v.served)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || '—',
    String(v.transitions),
  ]);
  const head = ['circuit', 'state', 'calls', 'failures', 'rejections', 'served by source', 'transitions'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = new Set([2, 3, 4, 6]);
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w, i) => (numeric.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}
