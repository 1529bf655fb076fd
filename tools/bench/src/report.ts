import { cpus, totalmem, type } from 'node:os';
import { isBaseline, key, type Measurement, median, type Subject } from './harness.js';
import type { Footprint } from './memory.js';
import type { HeapRow } from './realistic.js';
import type { Sustained } from './sustained.js';

type Named = Pick<Subject, 'scenario' | 'label'>;

export interface Isolated {
  micro: { subjects: Named[]; values: Map<string, Measurement> };
  concurrency: { subjects: Named[]; values: Map<string, Measurement> };
  footprints: Footprint[];
  sustained: Sustained[];
  sustainedSeconds: number;
}

export interface Realistic {
  subjects: Named[];
  values: Map<string, Measurement>;
  heap: HeapRow[];
  classifiers: Array<{ circuit: string; from: string }>;
}

export interface Results {
  mode: string;
  rounds: number;
  /** Load average (1 min) at the start and end of each section. */
  load: Array<{ section: string; start: number; end: number }>;
  isolated?: Isolated;
  realistic?: Realistic;
  extra?: string[];
}

/** Targets from the benchmark issue, checked on the medians of this run. */
const TARGETS: Record<string, { describe: string; check: (row: Row) => boolean }> = {
  'closed success': {
    describe: '≤ 100 ns over baseline, ≤ 0.4 × cockatiel',
    check: (r) => r.overhead! <= 100 && (r.vsCockatiel ?? 0) <= 0.4,
  },
  'closed success + Prometheus': {
    describe: '≤ 400 ns over baseline, ≤ 0.16 × cockatiel+prom',
    check: (r) => r.overhead! <= 400 && (r.vsCockatiel ?? 0) <= 0.16,
  },
  'open: rejection (caught)': { describe: '≤ 3 000 ns', check: (r) => r.ns <= 3_000 },
  'open: fallback value': { describe: '≤ 300 ns', check: (r) => r.ns <= 300 },
  '10 000 concurrent calls': { describe: '≤ 1.6 × baseline', check: (r) => r.overhead! <= 0.6 * r.baseline! },
  'realistic: closed success': {
    describe: '≤ 100 ns over baseline, ≤ 0.4 × cockatiel',
    check: (r) => r.overhead! <= 100 && (r.vsCockatiel ?? 0) <= 0.4,
  },
  'realistic: closed success + Prometheus': {
    describe: '≤ 400 ns over baseline, ≤ 0.4 × cockatiel+prom',
    check: (r) => r.overhead! <= 400 && (r.vsCockatiel ?? 0) <= 0.4,
  },
  'realistic: open rejection (caught)': { describe: '≤ 3 000 ns', check: (r) => r.ns <= 3_000 },
  'realistic: open: tryExecute refusal / fallback': { describe: '≤ 300 ns', check: (r) => r.ns <= 300 },
};

interface Row {
  scenario: string;
  label: string;
  ns: number;
  min: number;
  max: number;
  baseline?: number;
  overhead?: number;
  vsCockatiel?: number;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function rows(subjects: Named[], values: Map<string, Measurement>): Row[] {
  const out: Row[] = [];
  for (const s of subjects) {
    const { value, overhead } = values.get(key(s))!;
    const base = subjects.find((b) => b.scenario === s.scenario && isBaseline(b));
    const baseline = base ? median(values.get(key(base))!.value) : undefined;
    out.push({
      scenario: s.scenario,
      label: s.label,
      ns: median(value),
      min: Math.min(...value),
      max: Math.max(...value),
      baseline,
      overhead: overhead.length > 0 ? median(overhead) : undefined,
    });
  }
  // "ours ÷ peer": on the overhead where the scenario has a baseline, else on ns per call.
  for (const r of out) {
    if (!r.label.startsWith('ours')) continue;
    const cockatiel = out.find((p) => p.scenario === r.scenario && p.label.startsWith('cockatiel'));
    if (cockatiel) r.vsCockatiel = cost(r) / cost(cockatiel);
  }
  return out;
}

const cost = (r: Row) => r.overhead ?? r.ns;

function table(all: Row[], unit: string, scale = 1): string[] {
  const lines = [
    `| scenario | subject | ${unit} (median) | min–max over rounds | over baseline | ours ÷ this | target |`,
    '|---|---|--:|--:|--:|--:|---|',
  ];
  for (const r of all) {
    const ours = all.find((o) => o.scenario === r.scenario && o.label.startsWith('ours'));
    const isPeer = r.label.startsWith('cockatiel') || r.label.startsWith('opossum');
    const ratio = !isPeer || !ours ? '' : cost(ours) <= 0 ? '≈ 0' : fmt(cost(ours) / cost(r), 2);
    const target = TARGETS[r.scenario];
    const verdict =
      r.label.startsWith('ours') && target && r === ours
        ? `${target.describe}: **${target.check(r) ? 'met' : 'missed'}**`
        : '';
    const over =
      r.overhead === undefined || r.label.startsWith('baseline')
        ? ''
        : `${r.overhead < 0 ? '−' : '+'}${fmt(Math.abs(r.overhead) / scale, scale === 1 ? 0 : 2)}`;
    lines.push(
      `| ${r.scenario} | ${r.label} | ${fmt(r.ns / scale, scale === 1 ? 0 : 2)} | ${fmt(r.min / scale, scale === 1 ? 0 : 2)}–${fmt(r.max / scale, scale === 1 ? 0 : 2)} | ${over} | ${ratio} | ${verdict} |`,
    );
  }
  return lines;
}

export const fmtNumber = fmt;

export function markdown(results: Results): string {
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, ${type()}`;
  const lines = [
    '# breaker-core and the clients against opossum, cockatiel and the bare SDKs',
    '',
    `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${machine} · ${results.mode}, ${results.rounds} rounds, one process, subjects interleaved`,
    '',
    `Load average (1 min) during each section, start → end: ${results.load.map((l) => `${l.section} ${l.start.toFixed(2)} → ${l.end.toFixed(2)}`).join('; ')}.`,
    '',
  ];
  if (results.realistic) lines.push(...realisticSection(results.realistic, results.isolated));
  if (results.isolated) lines.push(...isolatedSection(results.isolated));
  if (results.extra) lines.push(...results.extra);
  return lines.join('\n');
}

const SIDE_BY_SIDE: Array<{ what: string; realistic: [string, string]; isolated?: [string, string] }> = [
  {
    what: 'closed success, count window 100: over `await fn()`',
    realistic: ['realistic: closed success', 'ours (count 100)'],
    isolated: ['closed success', 'ours (count 100)'],
  },
  {
    what: 'closed success, time window 60 s: over `await fn()`',
    realistic: ['realistic: closed success', 'ours (time 60 s)'],
    isolated: ['closed success', 'ours (time 60 s)'],
  },
  {
    what: 'closed success with metrics: over `await fn()`',
    realistic: ['realistic: closed success + Prometheus', 'ours via the registry (count 100, metrics)'],
    isolated: ['closed success + Prometheus', 'ours + prom-client (collect at scrape)'],
  },
  {
    what: 'cockatiel ConsecutiveBreaker(5): over `await fn()`',
    realistic: ['realistic: closed success', 'cockatiel ConsecutiveBreaker(5)'],
    isolated: ['closed success', 'cockatiel ConsecutiveBreaker(5)'],
  },
  {
    what: 'open: execute → CircuitOpenError, caught (ns/call)',
    realistic: ['realistic: open rejection (caught)', 'ours llm_providers.openai execute → CircuitOpenError'],
    isolated: ['open: rejection (caught)', 'ours execute → CircuitOpenError'],
  },
  {
    what: 'open: tryExecute → fallback value (ns/call)',
    realistic: ['realistic: open: tryExecute refusal / fallback', 'ours factor_broker.epa tryExecute → fallback value'],
    isolated: ['open: fallback value', 'ours tryExecute → fallback'],
  },
  {
    what: 'open: fallbackChain to a default (ns/call)',
    realistic: ['realistic: open: tryExecute refusal / fallback', 'ours fallbackChain (live open → cache → default)'],
    isolated: ['open: fallback value', 'ours fallbackChain (live → default)'],
  },
];

function realisticSection(real: Realistic, isolated: Isolated | undefined): string[] {
  const all = rows(real.subjects, real.values);
  const iso = isolated ? rows(isolated.micro.subjects, isolated.micro.values) : [];
  const find = (list: Row[], [scenario, label]: [string, string]) =>
    list.find((r) => r.scenario === scenario && r.label === label);
  const show = (r: Row | undefined) =>
    r === undefined
      ? ''
      : r.overhead !== undefined
        ? `${r.overhead < 0 ? '−' : '+'}${fmt(Math.abs(r.overhead))} ns`
        : `${fmt(r.ns)} ns`;
  const heapOurs = real.heap.find((h) => h.label === 'ours (count 100)');
  const isoHeap = isolated?.footprints.find((f) => f.label === 'ours (count 100)');
  const groups = new Map<string, string>();
  for (const { circuit, from } of real.classifiers) groups.set(circuit.split('.')[0]!, from);
  return [
    '## Realistic process (one isolate, every circuit of the shipped config, all warm)',
    '',
    `Every circuit of \`config/circuit_breaker_config.yaml\` (production, ${real.classifiers.length} circuits) is built through one \`BreakerRegistry\` with metrics on, its real settings and its client's classifier (${[...groups].map(([g, from]) => `${g}: ${from}`).join('; ')}). All of them, cockatiel, opossum (with and without Prometheus) and a hand-written minimal breaker are warmed through every path (successes, each kind of failure, deadlines, caller signals, refusals, trips, recovery, snapshots, scrapes) in the same isolate, then measured there in shuffled order, paired against the baseline as in the isolated section.`,
    '',
    '### Beside the isolated figures (medians)',
    '',
    '| what | realistic process | isolated (fresh isolate per subject) |',
    '|---|--:|--:|',
    ...SIDE_BY_SIDE.map(
      (r) => `| ${r.what} | ${show(find(all, r.realistic))} | ${r.isolated ? show(find(iso, r.isolated)) : ''} |`,
    ),
    `| heap per breaker (count 100) | ${heapOurs ? `${fmt(heapOurs.bytesPerBreaker)} B` : ''} | ${isoHeap ? `${fmt(isoHeap.bytesPerBreaker)} B` : ''} |`,
    '',
    '### Per call (ns)',
    '',
    ...table(all, 'ns/call'),
    '',
    '### Heap per breaker in the realistic process (10 000 kept alive, heap + ArrayBuffers)',
    '',
    '| breaker | bytes each | target |',
    '|---|--:|---|',
    ...real.heap.map(
      (h) =>
        `| ${h.label} | ${fmt(h.bytesPerBreaker)} | ${h.label === 'ours (count 100)' ? `≤ 1 500 B: **${h.bytesPerBreaker <= 1_500 ? 'met' : 'missed'}**` : ''} |`,
    ),
    '',
  ];
}

function isolatedSection(results: Isolated): string[] {
  const micro = rows(results.micro.subjects, results.micro.values);
  const concurrency = rows(results.concurrency.subjects, results.concurrency.values);
  const none = results.footprints.find((f) => f.label.startsWith('none'))!;
  return [
    '## Isolated: per call (ns)',
    '',
    'Each subject in a fresh worker isolate (the best case). Median of the round medians. "Over baseline" is the median over rounds of (subject − baseline), each measured in batches run alternately with a fresh baseline in the same round; a negative one means the wrapper costs less than the noise. "Ours ÷ this" divides our cost by the peer\'s (the overhead where there is a baseline, else ns per call): below 1 means we are cheaper. The target is checked on our first row of each scenario, on these medians.',
    '',
    ...table(micro, 'ns/call'),
    '',
    '## Isolated: 10 000 calls in flight at once (ms for all)',
    '',
    ...table(concurrency, 'ms', 1e6),
    '',
    '## Isolated: footprint of 10 000 breakers',
    '',
    '| breaker | heap bytes each | timers each | idle CPU (µs per s) | target |',
    '|---|--:|--:|--:|---|',
    ...results.footprints.map((f) => {
      const target =
        f.label === 'ours (count 100)'
          ? `≤ 1 500 B, 0 timers, idle within noise of none: **${f.bytesPerBreaker <= 1_500 && f.timersPerBreaker === 0 && f.idleCpuUsPerS <= none.idleCpuUsPerS * 1.5 + 200 ? 'met' : 'missed'}**`
          : '';
      return `| ${f.label} | ${f.label.startsWith('none') ? '' : fmt(f.bytesPerBreaker)} | ${f.label.startsWith('none') ? '' : fmt(f.timersPerBreaker, 1)} | ${fmt(f.idleCpuUsPerS)} | ${target} |`;
    }),
    '',
    `## Isolated: sustained, ${results.sustainedSeconds} s of success calls each`,
    '',
    '| subject | calls | CPU ns per call | heap retained after gc |',
    '|---|--:|--:|--:|',
    ...results.sustained.map(
      (s) => `| ${s.label} | ${fmt(s.calls)} | ${fmt(s.cpuNsPerCall)} | ${fmt(s.retainedBytes / 1024, 1)} KiB |`,
    ),
    '',
  ];
}
