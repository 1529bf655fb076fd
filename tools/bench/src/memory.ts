import { createHook } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BreakerRegistry } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { Registry } from 'prom-client';
import { gc, median } from './harness.js';
import { cockatiel, opossum, ours, succeed } from './subjects.js';

export interface Footprint {
  label: string;
  bytesPerBreaker: number;
  timersPerBreaker: number;
  /** CPU the process spends per second of idling with the breakers alive (µs/s). */
  idleCpuUsPerS: number;
}

interface Kind {
  label: string;
  make: () => unknown;
  dispose?: (breaker: unknown) => void;
}

export const FOOTPRINT_KINDS: Kind[] = [
  { label: 'none (idle process)', make: () => ({}) },
  { label: 'ours (count 100)', make: () => ours.count() },
  { label: 'ours (time 60 s)', make: () => ours.time() },
  {
    label: 'ours via a registry, metrics on',
    make: () => registry!.breaker(`bench.${++made}`),
  },
  { label: 'cockatiel ConsecutiveBreaker(5)', make: () => cockatiel.consecutive() },
  { label: 'cockatiel CountBreaker(100)', make: () => cockatiel.count() },
  {
    label: 'opossum defaults',
    make: () => opossum.make(succeed),
    dispose: (b) => (b as ReturnType<typeof opossum.make>).shutdown(),
  },
];

// The registry the "via a registry" kind makes its breakers in; a fresh one per round.
let registry: BreakerRegistry | undefined;
let made = 0;

/** Heap plus ArrayBuffer memory: typed arrays (our windows) live outside the JS heap's count. */
const memoryUsed = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Live timers, unref'd ones included (process.getActiveResourcesInfo() leaves those out). */
function timerCounter() {
  const live = new Set<number>();
  const hook = createHook({
    init: (id, type) => type === 'Timeout' && live.add(id),
    destroy: (id) => live.delete(id),
  }).enable();
  return { count: () => live.size, stop: () => hook.disable() };
}

/** 10 000 breakers of each kind: retained heap and timers each, and idle CPU while they live. */
export async function footprints(count: number, idleMs: number, rounds: number): Promise<Footprint[]> {
  const out: Footprint[] = [];
  for (const kind of FOOTPRINT_KINDS) {
    const bytes: number[] = [];
    const timerCounts: number[] = [];
    const idle: number[] = [];
    for (let round = 0; round < rounds; round++) {
      registry = new BreakerRegistry({ metrics: { registry: new Registry() }, logger: silentLogger() });
      gc();
      const before = memoryUsed();
      const timers = timerCounter();
      const alive = Array.from({ length: count }, kind.make);
      timerCounts.push(timers.count() / count);
      timers.stop();
      gc();
      bytes.push((memoryUsed() - before) / count);
      await sleep(100); // let creation's aftermath settle before idling is measured
      const cpu = process.cpuUsage();
      const start = performance.now();
      await sleep(idleMs);
      const cpuUsed = process.cpuUsage(cpu);
      idle.push(((cpuUsed.user + cpuUsed.system) * 1000) / (performance.now() - start));
      for (const b of alive) kind.dispose?.(b);
      alive.length = 0;
      registry.close();
    }
    out.push({
      label: kind.label,
      bytesPerBreaker: median(bytes),
      timersPerBreaker: median(timerCounts),
      idleCpuUsPerS: median(idle),
    });
  }
  return out;
}
