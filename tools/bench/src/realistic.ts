import { fileURLToPath } from 'node:url';
import {
  type CircuitBreaker as Breaker,
  BreakerRegistry,
  CircuitBreaker,
  type Classification,
  fallbackChain,
  loadConfig,
} from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { classifyRedisError } from '@gl-vcci/cache-client';
import { classifyPgError } from '@gl-vcci/db-client';
import { classifyFactorError } from '@gl-vcci/factor-client';
import { Registry } from 'prom-client';
import { gc, type Subject } from './harness.js';
import { MinimalBreaker } from './minimal.js';
import { cockatiel, FALLBACK, failing, opossum, peerSubjects, subject, succeed } from './subjects.js';

/**
 * The realistic process: one isolate in which every circuit of the shipped config is built
 * through the registry with its real settings and its client's classifier, metrics on, and all
 * of them (and the peers) are warmed through every path a client takes — successes, failures of
 * each kind, deadlines, caller signals, refusals, trips, snapshots and scrapes — before anything
 * is measured. What the isolated section measures is the best case; this is what an application
 * running four to six clients sees.
 */

export const CONFIG_PATH = fileURLToPath(new URL('../../../config/circuit_breaker_config.yaml', import.meta.url));

// Stand-ins for clients whose classifier is not exported (llm-client keeps classifyLlmError
// private; erp-client and email-client are being built): the same shape of decision — a few
// property and instanceof checks, 'ignore' for the caller's errors, else 'failure'.
class StandInRequestError extends Error {
  readonly status = 400;
}
function classifyLlmStandIn(error: unknown): Classification {
  if (error instanceof StandInRequestError) return 'ignore';
  const kind = (error as { kind?: unknown } | null)?.kind;
  return kind === 'cancelled' ? 'ignore' : 'failure';
}
function classifyHttpStandIn(error: unknown): Classification {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 429 ? 'ignore' : 'failure';
}

/** The classifier each circuit's client passes, by the group of the circuit's name. */
export function classifierFor(circuit: string): { classify: (e: unknown) => Classification; from: string } {
  const group = circuit.split('.')[0];
  switch (group) {
    case 'database':
      return { classify: classifyPgError, from: '@gl-vcci/db-client classifyPgError' };
    case 'cache':
      return { classify: classifyRedisError, from: '@gl-vcci/cache-client classifyRedisError' };
    case 'factor_broker':
      return { classify: classifyFactorError, from: '@gl-vcci/factor-client classifyFactorError' };
    case 'llm_providers':
      return { classify: classifyLlmStandIn, from: 'stand-in (classifyLlmError is not exported)' };
    default:
      return { classify: classifyHttpStandIn, from: 'stand-in (HTTP status)' };
  }
}

/** Errors of every kind the clients see, so each classifier's branches are warm. */
const ERRORS: unknown[] = [
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect' }),
  Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' }),
  Object.assign(new Error('terminating connection'), { code: '57P01', severity: 'FATAL' }),
  Object.assign(new Error('canceling statement'), { code: '57014', severity: 'ERROR' }),
  new Error('Connection terminated unexpectedly'),
  Object.assign(new Error('rate limited'), { status: 429, retryAfterMs: 1_000 }),
  Object.assign(new Error('not found'), { status: 404 }),
  Object.assign(new Error('cancelled'), { kind: 'cancelled' }),
  new StandInRequestError('bad request'),
  new TypeError('fetch failed'),
];

export interface World {
  registry: BreakerRegistry;
  circuits: Breaker[];
  classifiers: Array<{ circuit: string; from: string }>;
}

export function buildWorld(): World {
  const config = loadConfig(CONFIG_PATH, { environment: 'production' });
  const registry = new BreakerRegistry({ config, metrics: { registry: new Registry() }, logger: silentLogger() });
  const classifiers: World['classifiers'] = [];
  const circuits = Object.keys(config.services).map((name) => {
    const { classify, from } = classifierFor(name);
    classifiers.push({ circuit: name, from });
    return registry.breaker(name, { classify });
  });
  return { registry, circuits, classifiers };
}

const swallow = () => FALLBACK;
const withSignal = (signal: AbortSignal) => (signal.aborted ? 0 : 1);
const fail = (error: unknown) => () => Promise.reject(error);

/** Every path of every circuit, interleaved across circuits so no call site sees one shape only. */
export async function warm(world: World, passes: number): Promise<void> {
  const { registry, circuits } = world;
  const caller = new AbortController();
  for (let pass = 0; pass < passes; pass++) {
    for (const b of circuits) {
      for (let i = 0; i < 200; i++) {
        await b.execute(succeed);
        await b.execute(withSignal);
        await b.execute(succeed, { signal: caller.signal });
        const outcome = await b.tryExecute(succeed);
        if (!outcome.ok) throw new Error('closed circuit refused');
      }
      for (const error of ERRORS) await b.execute(fail(error)).catch(swallow);
      // A trip, refusals of both kinds, a recovery signal and a trial, then closed again.
      b.forceOpen();
      await b.execute(succeed).catch(swallow);
      await b.tryExecute(succeed);
      b.reset();
      for (let i = 0; i < 20; i++) await b.execute(fail(ERRORS[0])).catch(swallow);
      await b.tryExecute(succeed);
      if (b.allowTrial()) await b.execute(succeed).catch(swallow);
      b.snapshot();
      b.reset();
    }
    registry.health();
    await registry.metricsRegistry!.metrics();
    // The peers and the bench's own breakers, hot in the same isolate.
    const peers: Array<() => Promise<unknown>> = [];
    const ours = new CircuitBreaker({ name: 'warm.count', slidingWindow: { kind: 'count', size: 100 } });
    const time = new CircuitBreaker({ name: 'warm.time', slidingWindow: { kind: 'time', seconds: 60 } });
    const minimal = new MinimalBreaker();
    const c1 = cockatiel.consecutive();
    const c2 = cockatiel.withMetrics();
    const o1 = opossum.make(succeed, { timeout: false });
    const o2 = opossum.withMetrics();
    peers.push(
      () => ours.execute(succeed),
      () => time.execute(succeed),
      () => minimal.execute(succeed),
      () => c1.execute(succeed),
      () => c2.execute(succeed),
      () => o1.fire(),
      () => o2.breaker.fire(),
      () => ours.execute(failing).catch(swallow),
      () => c1.execute(failing).catch(swallow),
      () => o1.fire().catch(swallow),
    );
    // Failures trip some of them: refusals are a path too, so every call is caught.
    for (let i = 0; i < 500; i++) for (const p of peers) await p().catch(swallow);
    o1.shutdown();
    o2.dispose();
  }
}

/** An open circuit of the registry: one of the shipped ones, tripped by failures it classifies as such. */
async function openCircuit(world: World, name: string): Promise<Breaker> {
  const b = world.registry.get(name)!;
  b.reset();
  for (let i = 0; i < 50 && b.state !== 'open'; i++) await b.execute(fail(ERRORS[0])).catch(swallow);
  if (b.state !== 'open') throw new Error(`${name} did not open`);
  return b;
}

/** The realistic-process subjects; they use the world's circuits, reset before each measurement. */
export function realisticSubjects(world: World): Subject[] {
  const s = 'realistic: closed success';
  const m = 'realistic: closed success + Prometheus';
  const o = 'realistic: open rejection (caught)';
  const fb = 'realistic: open: tryExecute refusal / fallback';
  const circuit = (name: string, fn: (signal: AbortSignal) => unknown = succeed) => {
    const b = world.registry.get(name)!;
    b.reset();
    return { call: () => b.execute(fn) };
  };
  return [
    subject(s, 'baseline await fn()', () => ({ call: () => succeed() })),
    subject(s, 'ours (count 100)', () => {
      const b = new CircuitBreaker({ name: 'bench', slidingWindow: { kind: 'count', size: 100 } });
      return { call: () => b.execute(succeed) };
    }),
    subject(s, 'ours (time 60 s)', () => {
      const b = new CircuitBreaker({ name: 'bench', slidingWindow: { kind: 'time', seconds: 60 } });
      return { call: () => b.execute(succeed) };
    }),
    subject(s, 'ours database.postgres (count 100, 6 s deadline, metrics)', () => circuit('database.postgres')),
    subject(s, 'ours cache.redis (count 200, 0.5 s deadline, metrics)', () => circuit('cache.redis')),
    subject(s, 'ours factor_broker.ecoinvent (time 60 s, 5 s deadline, slow calls, metrics)', () =>
      circuit('factor_broker.ecoinvent'),
    ),
    // A function that takes its signal (an HTTP client's, as factor-client's) gets one of its own.
    subject(s, 'ours factor_broker.ecoinvent, fn takes its signal', () =>
      circuit('factor_broker.ecoinvent', (signal) => Promise.resolve(withSignal(signal))),
    ),
    subject(s, 'hand-written minimal breaker (25 lines)', () => {
      const b = new MinimalBreaker();
      return { call: () => b.execute(succeed) };
    }),
    ...peerSubjects.closed(s),

    subject(m, 'baseline await fn()', () => ({ call: () => succeed() })),
    subject(m, 'ours via the registry (count 100, metrics)', () => {
      const b = world.registry.breaker('bench.metrics', { slidingWindow: { kind: 'count', size: 100 } });
      b.reset();
      return { call: () => b.execute(succeed) };
    }),
    ...peerSubjects.metrics(m),

    subject(o, 'ours llm_providers.openai execute → CircuitOpenError', async () => {
      const b = await openCircuit(world, 'llm_providers.openai');
      return { call: () => b.execute(succeed).catch(swallow) };
    }),
    ...peerSubjects.open(o),

    subject(fb, 'ours factor_broker.epa tryExecute → fallback value', async () => {
      const b = await openCircuit(world, 'factor_broker.epa');
      return {
        call: async () => {
          const outcome = await b.tryExecute(succeed);
          return outcome.ok ? outcome.value : FALLBACK;
        },
      };
    }),
    subject(fb, 'ours fallbackChain (live open → cache → default)', async () => {
      const b = await openCircuit(world, 'factor_broker.desnz');
      const steps = [
        { source: 'live' as const, run: () => b.execute(succeed) },
        { source: 'cache' as const, run: () => undefined },
        { source: 'default' as const, run: () => FALLBACK },
      ];
      return { call: () => fallbackChain(steps) };
    }),
    ...peerSubjects.fallback(fb),
  ];
}

export interface HeapRow {
  label: string;
  bytesPerBreaker: number;
}

const memoryUsed = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Retained heap (plus ArrayBuffers) per breaker, measured in the warmed process. */
export function realisticHeap(world: World, count: number): HeapRow[] {
  let made = 0;
  const kinds: Array<{ label: string; make: () => unknown }> = [
    {
      label: 'ours (count 100)',
      make: () => new CircuitBreaker({ name: 'bench', slidingWindow: { kind: 'count', size: 100 } }),
    },
    {
      label: 'ours (time 60 s)',
      make: () => new CircuitBreaker({ name: 'bench', slidingWindow: { kind: 'time', seconds: 60 } }),
    },
    {
      label: 'ours via the registry, metrics on (count 100)',
      make: () => world.registry.breaker(`heap.${++made}`, { slidingWindow: { kind: 'count', size: 100 } }),
    },
    { label: 'cockatiel ConsecutiveBreaker(5)', make: () => cockatiel.consecutive() },
    { label: 'cockatiel CountBreaker(100)', make: () => cockatiel.count() },
  ];
  const out: HeapRow[] = [];
  for (const kind of kinds) {
    const samples: number[] = [];
    for (let round = 0; round < 3; round++) {
      gc();
      const before = memoryUsed();
      const alive = Array.from({ length: count }, kind.make);
      gc();
      samples.push((memoryUsed() - before) / count);
      alive.length = 0;
    }
    samples.sort((a, b) => a - b);
    out.push({ label: kind.label, bytesPerBreaker: samples[1]! });
  }
  return out;
}
