import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runRounds, type Settings } from './harness.js';
import { footprints } from './memory.js';
import { markdown } from './report.js';
import { concurrencySubjects, microSubjects } from './subjects.js';
import { sustained } from './sustained.js';

const quick = process.argv.includes('--quick');
const settings: Settings = quick
  ? { rounds: 3, warmupMs: 30, batchMs: 40, batches: 3 }
  : { rounds: 7, warmupMs: 150, batchMs: 120, batches: 3 };
const log = (message: string) => process.stderr.write(`${message}\n`);

log(`bench: ${quick ? 'quick' : 'full'} run, ${settings.rounds} rounds`);
const micro = microSubjects();
const microValues = await runRounds('micro', micro, settings, (r) => log(`  per-call round ${r + 1} done`));
const concurrency = concurrencySubjects();
const concurrencyValues = await runRounds('concurrency', concurrency, { ...settings, batches: 11 }, (r) =>
  log(`  concurrency round ${r + 1} done`),
);
log('  footprints');
const prints = await footprints(10_000, quick ? 300 : 1_000, quick ? 1 : 3);
const sustainedSeconds = quick ? 2 : 11;
log(`  sustained (${sustainedSeconds} s each)`);
const steady = await sustained(sustainedSeconds);

const text = markdown({
  mode: quick ? 'quick' : 'full',
  rounds: settings.rounds,
  micro: { subjects: micro, values: microValues },
  concurrency: { subjects: concurrency, values: concurrencyValues },
  footprints: prints,
  sustained: steady,
  sustainedSeconds,
});
process.stdout.write(text);
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'latest.md');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, text);
log(`bench: written to ${out}`);
