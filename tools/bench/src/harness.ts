import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
/** Measurement primitives: every number the bench prints comes from here. */

export type Call = () => Promise<unknown>;

export interface Built {
  call: Call;
  dispose?: () => void;
}

export interface Subject {
  /** Row group, e.g. "closed success". */
  scenario: string;
  /** Who is measured: "baseline …", "ours …", "cockatiel …", "opossum …". */
  label: string;
  /** Builds a fresh subject for one round; `dispose` clears its timers and metrics. */
  make: () => Built | Promise<Built>;
}

/** Turns a call into a batch that returns one measurement (ns per call, or ns for the batch). */
export type Meter = (call: Call) => Promise<() => Promise<number>>;

export interface Settings {
  rounds: number;
  warmupMs: number;
  batchMs: number;
  batches: number;
}

/** One round's numbers for one subject: its value, and what it adds over the scenario's baseline. */
export interface Measurement {
  value: number[];
  /** Median of (subject batch − baseline batch) over batches run alternately, one per round. */
  overhead: number[];
}

export const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run node with --expose-gc (npm run bench does)');
  collect();
  collect();
};

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function loop(call: Call, iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await call();
  return Number(process.hrtime.bigint() - start) / iterations;
}

/** ns per call: a timed warm-up sizes the batch so that one takes about `batchMs`. */
export function perCall(settings: Settings): Meter {
  return async (call) => {
    let iterations = 1_000;
    let spent = 0;
    let estimate = await loop(call, iterations);
    while (spent < settings.warmupMs * 1e6) {
      spent += estimate * iterations;
      iterations = Math.min(iterations * 2, 1_000_000);
      estimate = await loop(call, iterations);
    }
    const perBatch = Math.max(1_000, Math.round((settings.batchMs * 1e6) / estimate));
    return () => loop(call, perBatch);
  };
}

/**
 * ns for one whole call (e.g. 10 000 concurrent calls), after one warm-up run. Each run starts
 * from a collected heap, so it pays for its own garbage and not for the previous run's.
 */
export const wholeCall: Meter = async (call) => {
  await call();
  return async () => {
    gc();
    const start = process.hrtime.bigint();
    await call();
    return Number(process.hrtime.bigint() - start);
  };
};

/** Mulberry32: a seeded generator, so every run shuffles the same way and runs can be compared. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const key = (s: Pick<Subject, 'scenario' | 'label'>) => `${s.scenario}\u0000${s.label}`;
export const isBaseline = (s: Pick<Subject, 'label'>) => s.label.startsWith('baseline');

export type Group = 'micro' | 'concurrency';

/**
 * Every subject once per round, in a freshly shuffled order. Each measurement runs in a worker
 * thread of its own: one process and one machine moment as asked, but a fresh V8 isolate, so no
 * library's JIT feedback (megamorphic call sites left by the others) colours another's numbers.
 */
export async function runRounds(
  group: Group,
  subjects: readonly Subject[],
  settings: Settings,
  onRound?: (round: number) => void,
): Promise<Map<string, Measurement>> {
  const results = new Map<string, Measurement>(subjects.map((s) => [key(s), { value: [], overhead: [] }]));
  const random = seeded(20261126);
  for (let round = 0; round < settings.rounds; round++) {
    const order = subjects.map((s) => ({ s, r: random() })).sort((a, b) => a.r - b.r);
    for (const { s: subject } of order) {
      const worker = new Worker(new URL('./isolated.js', import.meta.url), {
        workerData: { group, key: key(subject), settings },
      });
      const [one] = (await once(worker, 'message')) as [{ value: number; overhead?: number }];
      await worker.terminate();
      const entry = results.get(key(subject))!;
      entry.value.push(one.value);
      if (one.overhead !== undefined) entry.overhead.push(one.overhead);
    }
    onRound?.(round);
  }
  return results;
}

/**
 * Every subject once per round, shuffled as runRounds does, but all in this one isolate: the
 * realistic process, where every library's and every configuration's code is hot at once.
 */
export async function runInProcess(
  subjects: readonly Subject[],
  settings: Settings,
  onRound?: (round: number) => void,
): Promise<Map<string, Measurement>> {
  const results = new Map<string, Measurement>(subjects.map((s) => [key(s), { value: [], overhead: [] }]));
  const random = seeded(20261130);
  const meter = perCall(settings);
  for (let round = 0; round < settings.rounds; round++) {
    const order = subjects.map((s) => ({ s, r: random() })).sort((a, b) => a.r - b.r);
    for (const { s: subject } of order) {
      const one = await measureOne(subjects, subject, settings, meter);
      const entry = results.get(key(subject))!;
      entry.value.push(one.value);
      if (one.overhead !== undefined) entry.overhead.push(one.overhead);
    }
    onRound?.(round);
  }
  return results;
}

/**
 * One subject, once. A subject whose scenario has a baseline runs its batches alternately with a
 * fresh baseline's, so its overhead is a difference measured at the same moment, not one of two
 * medians taken apart.
 */
export async function measureOne(
  subjects: readonly Subject[],
  subject: Subject,
  settings: Settings,
  meter: Meter,
): Promise<{ value: number; overhead?: number }> {
  const baseline = isBaseline(subject)
    ? undefined
    : subjects.find((b) => b.scenario === subject.scenario && isBaseline(b));
  gc();
  const built = await subject.make();
  const base = baseline ? await baseline.make() : undefined;
  try {
    const batch = await meter(built.call);
    const baseBatch = base ? await meter(base.call) : undefined;
    const values: number[] = [];
    const differences: number[] = [];
    for (let i = 0; i < settings.batches; i++) {
      // Which goes first alternates, so garbage one leaves for the next's GC is shared evenly.
      const subjectFirst = i % 2 === 1;
      const early = subjectFirst ? await batch() : undefined;
      const b = baseBatch ? await baseBatch() : undefined;
      const value = early ?? (await batch());
      values.push(value);
      if (b !== undefined) differences.push(value - b);
    }
    return { value: median(values), overhead: differences.length > 0 ? median(differences) : undefined };
  } finally {
    built.dispose?.();
    base?.dispose?.();
  }
}
