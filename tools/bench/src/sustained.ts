import { type Call, gc } from './harness.js';
import { cockatiel, opossum, ours, succeed } from './subjects.js';

export interface Sustained {
  label: string;
  calls: number;
  cpuNsPerCall: number;
  /** Heap still held after the run and a full gc, against before it (bytes). */
  retainedBytes: number;
}

const SUBJECTS: Array<{ label: string; make: () => { call: Call; dispose?: () => void } }> = [
  { label: 'baseline', make: () => ({ call: () => succeed() }) },
  {
    label: 'ours + prom-client (count 100)',
    make: () => {
      const { breaker, dispose } = ours.withMetrics();
      return { call: () => breaker.execute(succeed), dispose };
    },
  },
  {
    label: 'cockatiel CountBreaker(100) + prom-client',
    make: () => {
      const p = cockatiel.withMetrics();
      return { call: () => p.execute(succeed) };
    },
  },
  {
    label: 'opossum + opossum-prometheus',
    make: () => {
      const { breaker, dispose } = opossum.withMetrics();
      return { call: () => breaker.fire(), dispose };
    },
  },
];

/** Success calls for `seconds` each, one subject after the other: CPU per call and retained heap. */
export async function sustained(seconds: number): Promise<Sustained[]> {
  const out: Sustained[] = [];
  for (const s of SUBJECTS) {
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const { call, dispose } = s.make();
    const cpu = process.cpuUsage();
    const end = performance.now() + seconds * 1000;
    let calls = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 1_000; i++) await call();
      calls += 1_000;
    }
    const used = process.cpuUsage(cpu);
    gc();
    const retainedBytes = process.memoryUsage().heapUsed - heapBefore;
    dispose?.();
    out.push({ label: s.label, calls, cpuNsPerCall: ((used.user + used.system) * 1000) / calls, retainedBytes });
  }
  return out;
}
