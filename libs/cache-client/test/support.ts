import { randomUUID } from 'node:crypto';
import { BreakerRegistry, loadConfig } from '@gl-vcci/breaker-core';
import { ManualClock, silentLogger } from '@gl-vcci/breaker-core/testing';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import type { CacheLogger } from '../src/types.js';

/**
 * The `cache.redis` block the outage tests run with: a count window so the circuit opens after
 * two failures, 5 s open (moved past with the ManualClock), a 200 ms call deadline.
 */
export const OUTAGE_CONFIG = `
cache:
  redis:
    window_calls: 10
    fail_max: 2
    timeout_duration: 5
    call_timeout: 0.2
`;

export const CALL_TIMEOUT_MS = 200;
export const OPEN_DURATION_MS = 5_000;

export interface TestRegistry {
  registry: BreakerRegistry;
  prom: Registry;
  clock: ManualClock;
}

/** A registry on its own prom-client Registry and a ManualClock, from `yaml` (default OUTAGE_CONFIG). */
export function testRegistry(yaml = OUTAGE_CONFIG, logger: CacheLogger = silentLogger()): TestRegistry {
  const prom = new Registry();
  const clock = new ManualClock(1_000_000);
  const registry = new BreakerRegistry({ config: loadConfig(yaml), metrics: { registry: prom }, logger, clock });
  return { registry, prom, clock };
}

/** A key prefix no other test (or test file running in parallel) uses. */
export function uniquePrefix(): string {
  return `test:cache-client:${randomUUID()}:`;
}

/** The lines of one metric's samples (no HELP/TYPE). */
export async function samples(prom: Registry, name: string): Promise<string[]> {
  const text = await prom.getSingleMetricAsString(name);
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

/** The value of a metric sample without labels, or of the line whose labels are given. */
export async function sampleValue(prom: Registry, name: string, labels = ''): Promise<number> {
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = (await samples(prom, name)).find((l) => l.startsWith(prefix));
  return line === undefined ? Number.NaN : Number(line.slice(prefix.length));
}

/** The breaker's calls_total by status, e.g. { success: 3, failure: 2, … }. */
export async function breakerCalls(prom: Registry): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const line of await samples(prom, 'greenlang_circuit_breaker_calls_total')) {
    const match = /status="(\w+)"\} (\S+)/.exec(line);
    if (match) calls[match[1]!] = Number(match[2]);
  }
  return calls;
}

/** Whether `promise` has settled, after letting pending callbacks run. */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

/** A plain node-redis client, to look at (or tamper with) what the cache client stored. */
export async function rawRedis(url: string) {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  return client;
}
