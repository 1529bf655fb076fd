/** Measurement primitives: every number the bench prints comes from here. */

export type Call = () => Promise<unknown>;

export interface Built {
  call: Call;
  dispose?: () => void;
}

export interface Subject {
  /** Row group, e.g. "closed success". */
  scenario: string;
  /** Who is measured: "baseline", "ours …", "cockatiel …", "opossum …". */
  label: string;
  /** Builds a fresh subject for one round; `dispose` clears its timers and metrics. */
  make: () => Built | Promise<Built>;
}

export interface Settings {
  rounds: number;
  warmupMs: number;
  batchMs: number;
  batches: number;
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

/** ns per call: a timed warm-up sizes the batches, then the median of `batches` batches. */
export async function nsPerCall(call: Call, settings: Settings): Promise<number> {
  let iterations = 1_000;
  let spent = 0;
  let estimate = await loop(call, iterations);
  while (spent < settings.warmupMs * 1e6) {
    spent += estimate * iterations;
    iterations = Math.min(iterations * 2, 1_000_000);
    estimate = await loop(call, iterations);
  }
  const perBatch = Math.max(1_000, Math.round((settings.batchMs * 1e6) / estimate));
  const results: number[] = [];
  for (let b = 0; b < settings.batches; b++) results.push(await loop(call, perBatch));
  return median(results);
}

/** Runs every subject once per round, in a rotated order, with gc between: round medians per label. */
export async function runRounds(
  subjects: readonly Subject[],
  settings: Settings,
  measure: (call: Call) => Promise<number>,
  onRound?: (round: number) => void,
): Promise<Map<string, number[]>> {
  const results = new Map<string, number[]>(subjects.map((s) => [key(s), []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (let i = 0; i < subjects.length; i++) {
      const subject = subjects[(i + round * 3) % subjects.length]!;
      gc();
      const { call, dispose } = await subject.make();
      try {
        results.get(key(subject))!.push(await measure(call));
      } finally {
        dispose?.();
      }
    }
    onRound?.(round);
  }
  return results;
}

export const key = (s: Pick<Subject, 'scenario' | 'label'>) => `${s.scenario}\u0000${s.label}`;
