import { Writable } from 'node:stream';
import { type Logger, type LoggerOptions, pino } from 'pino';
import { Registry } from 'prom-client';
import type { Clock } from './clock.js';
import { loadConfig } from './config/load.js';
import { formatMs } from './format.js';
import { createLogger } from './logging.js';
import { BreakerRegistry } from './registry.js';

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

/**
 * A clock that only moves when told to. `advance(ms)` runs the timers that fall due, in order,
 * each seeing `now()` at its own due time, so tests of deadlines and open durations never sleep.
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: Timer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), callback };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Timers scheduled and not yet run or cleared. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.#now + ms;
    while (this.#runNextDue(target));
    this.#now = target;
  }

  /** Like `advance`, but lets pending promise callbacks run before and after each timer. */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushPromises();
    while (this.#runNextDue(target)) await flushPromises();
    this.#now = target;
    await flushPromises();
  }

  /** Runs the earliest timer due by `target` (at its own time); false when none is. */
  #runNextDue(target: number): boolean {
    const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
    if (!due) return false;
    this.#timers = this.#timers.filter((t) => t !== due);
    this.#now = due.at;
    due.callback();
    return true;
  }
}

/** Resolves after every promise callback queued so far (and those they queue) has run. */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A promise with its resolve and reject in hand, for calls the test settles when it chooses. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A logger that writes nowhere, for tests that do not read logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A logger at debug, redacting like `createLogger`, whose lines are captured as parsed JSON objects. */
export function capturingLogger(options: LoggerOptions = {}): {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', ...options }, sink), lines };
}

/** A live view of a promise's state, to assert on calls that must still be pending. */
export function track<T>(promise: Promise<T>): {
  status: 'pending' | 'fulfilled' | 'rejected';
  value?: T;
  error?: unknown;
} {
  const state: { status: 'pending' | 'fulfilled' | 'rejected'; value?: T; error?: unknown } = { status: 'pending' };
  promise.then(
    (value) => Object.assign(state, { status: 'fulfilled', value }),
    (error: unknown) => Object.assign(state, { status: 'rejected', error }),
  );
  return state;
}

/**
 * Polls `condition` until it holds, for events only a real server produces (a request arriving,
 * a process stopping); throws naming `what` after `timeoutMs`. Use the ManualClock for time itself.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${formatMs(timeoutMs)} waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface TestRegistry {
  registry: BreakerRegistry;
  /** The prom-client registry the breakers and clients publish to. */
  prom: Registry;
  clock: ManualClock;
}

/**
 * A BreakerRegistry for a test: `config` as YAML text (none: defaults only), its own prom-client
 * registry, a ManualClock started at `start`, and a silent logger unless one is given.
 */
export function testRegistry(
  options: { config?: string; logger?: Logger; start?: number; strictConfig?: boolean } = {},
): TestRegistry {
  const prom = new Registry();
  const clock = new ManualClock(options.start ?? 1_000_000);
  const registry = new BreakerRegistry({
    ...(options.config === undefined ? {} : { config: loadConfig(options.config) }),
    metrics: { registry: prom },
    logger: options.logger ?? silentLogger(),
    clock,
    ...(options.strictConfig === undefined ? {} : { strictConfig: options.strictConfig }),
  });
  return { registry, prom, clock };
}

/** The sample lines of one metric (no HELP/TYPE), as Prometheus would scrape them. */
export async function samples(prom: Registry, name: string): Promise<string[]> {
  const text = await prom.getSingleMetricAsString(name);
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

/** The value of the one sample of `name` whose labels include every `labels` pair; undefined when none. */
export async function sampleValue(
  prom: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = (await samples(prom, name)).find((l) => wanted.every((pair) => l.includes(pair)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
