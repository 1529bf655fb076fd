import { cpus, totalmem, type } from 'node:os';
import { isBaseline, key, type Measurement, median, type Subject } from './harness.js';
import type { Footprint } from './memory.js';
import type { Sustained } from './sustained.js';

export interface Results {
  mode: string;
  rounds: number;
  micro: { subjects: Subject[]; values: Map<string, Measurement> };
  concurrency: { subjects: Subject[]; values: Map<string, Measurement> };
  footprints: Footprint[];
  sustained: Sustained[];
  sustainedSeconds: number;
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

function rows(subjects: Subject[], values: Map<string, Measurement>): Row[] {
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

export function markdown(results: Results): string {
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, ${type()}`;
  const micro = rows(results.micro.subjects, results.micro.values);
  const concurrency = rows(results.concurrency.subjects, results.concurrency.values);
  const none = results.footprints.find((f) => f.label.startsWith('none'))!;
  const lines = [
    '# breaker-core against opossum and cockatiel',
    '',
    `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${machine} · ${results.mode}, ${results.rounds} rounds, one process, subjects interleaved`,
    '',
    '## Per call (ns)',
    '',
    'Median of the round medians. "Over baseline" is the median over rounds of (subject − baseline), each measured in batches run alternately with a fresh baseline in the same round; a negative one means the wrapper costs less than the noise. "Ours ÷ this" divides our cost by the peer\'s (the overhead where there is a baseline, else ns per call): below 1 means we are cheaper. The target is checked on our first row of each scenario, on these medians.',
    '',
    ...table(micro, 'ns/call'),
    '',
    '## 10 000 calls in flight at once (ms for all)',
    '',
    ...table(concurrency, 'ms', 1e6),
    '',
    '## Footprint of 10 000 breakers',
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
    `## Sustained: ${results.sustainedSeconds} s of success calls each`,
    '',
    '| subject | calls | CPU ns per call | heap retained after gc |',
    '|---|--:|--:|--:|',
    ...results.sustained.map(
      (s) => `| ${s.label} | ${fmt(s.calls)} | ${fmt(s.cpuNsPerCall)} | ${fmt(s.retainedBytes / 1024, 1)} KiB |`,
    ),
    '',
  ];
  return lines.join('\n');
}
