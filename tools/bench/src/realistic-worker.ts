import { parentPort, workerData } from 'node:worker_threads';
import { runInProcess, type Settings } from './harness.js';
import { buildWorld, realisticHeap, realisticSubjects, warm } from './realistic.js';

// Worker entry for the realistic process: one isolate holds every circuit and every peer, warmed,
// and measures them all (see realistic.ts). Posts plain data back.
const { settings } = workerData as { settings: Settings };
const log = (message: string) => parentPort!.postMessage({ log: message });
const world = buildWorld();
const started = performance.now();
await warm(world, settings.rounds > 3 ? 6 : 3);
log(`  realistic: ${world.circuits.length} circuits warmed in ${Math.round(performance.now() - started)} ms`);
const subjects = realisticSubjects(world);
const values = await runInProcess(subjects, settings, (r) => log(`  realistic round ${r + 1} done`));
const heap = realisticHeap(world, 10_000);
parentPort!.postMessage({
  done: {
    subjects: subjects.map(({ scenario, label }) => ({ scenario, label })),
    values: [...values.entries()],
    heap,
    classifiers: world.classifiers,
  },
});
