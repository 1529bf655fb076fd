import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Measurement } from './harness.js';
import { runRounds, type Settings } from './harness.js';
import { footprints } from './memory.js';
import { type Isolated, markdown, type Realistic, type Results } from './report.js';
import { concurrencySubjects, microSubjects } from './subjects.js';
import { sustained } from './sustained.js';

// Sections: none named runs them all; `--realistic`, `--isolated`, `--clients`, `--outage` run
// only those named. Only a full run of every section writes results/latest.md; any other run
// writes dist/results/<sections>-<mode>.md, so a tracked file is never dirtied by a quick look.
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const ALL = ['realistic', 'isolated', 'clients', 'outage'] as const;
type Section = (typeof ALL)[number];
const named = ALL.filter((s) => argv.includes(`--${s}`));
const sections: readonly Section[] = named.length > 0 ? named : ALL;
const complete = !quick && sections.length === ALL.length;
const settings: Settings = quick
  ? { rounds: 3, warmupMs: 30, batchMs: 40, batches: 3 }
  : { rounds: 7, warmupMs: 150, batchMs: 120, batches: 3 };
const log = (message: string) => process.stderr.write(`${message}\n`);
const load: Results['load'] = [];

async function timed<T>(section: string, run: () => Promise<T>): Promise<T> {
  const start = loadavg()[0]!;
  log(`${section}: load average ${start.toFixed(2)}`);
  const value = await run();
  load.push({ section, start, end: loadavg()[0]! });
  return value;
}

async function realistic(): Promise<Realistic> {
  const worker = new Worker(new URL('./realistic-worker.js', import.meta.url), { workerData: { settings } });
  for (;;) {
    const [message] = (await once(worker, 'message')) as [
      { log?: string; done?: Omit<Realistic, 'values'> & { values: Array<[string, Measurement]> } },
    ];
    if (message.log) log(message.log);
    if (message.done) {
      await worker.terminate();
      return { ...message.done, values: new Map(message.done.values) };
    }
  }
}

async function isolated(): Promise<Isolated> {
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
  return {
    micro: { subjects: micro, values: microValues },
    concurrency: { subjects: concurrency, values: concurrencyValues },
    footprints: prints,
    sustained: steady,
    sustainedSeconds,
  };
}

log(`bench: ${quick ? 'quick' : 'full'} run of ${sections.join(', ')}, ${settings.rounds} rounds`);
const results: Results = { mode: quick ? 'quick' : 'full', rounds: settings.rounds, load, extra: [] };
// The clients and outages run before the isolated section, whose sustained runs leave this
// process with tens of MB of opossum-prometheus garbage that every later GC would walk.
if (sections.includes('realistic')) results.realistic = await timed('realistic', realistic);
if (sections.includes('clients')) {
  const { clientsSection } = await import('./clients.js');
  results.extra!.push(...(await timed('clients', () => clientsSection({ quick, log }))));
}
if (sections.includes('outage')) {
  const { outageSection } = await import('./outage.js');
  results.extra!.push(...(await timed('outage', () => outageSection({ quick, log }))));
}
if (sections.includes('isolated')) results.isolated = await timed('isolated', isolated);

const text = markdown(results);
process.stdout.write(text);
const here = dirname(fileURLToPath(import.meta.url));
const out = complete
  ? join(here, '..', 'results', 'latest.md')
  : join(here, 'results', `${sections.join('-')}-${results.mode}.md`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, text);
log(`bench: written to ${out}`);
