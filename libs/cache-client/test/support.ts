import { randomUUID } from 'node:crypto';
import type { Logger } from '@gl-vcci/breaker-core';
import { samples, type TestRegistry, testRegistry } from '@gl-vcci/breaker-core/testing';
import type { Registry } from 'prom-client';
import { createClient } from 'redis';

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

/** breaker-core's testRegistry on `config` (default OUTAGE_CONFIG). */
export function cacheRegistry(config = OUTAGE_CONFIG, logger?: Logger): TestRegistry {
  return testRegistry({ config, ...(logger ? { logger } : {}) });
}

/** A key prefix no other test (or test file running in parallel) uses. */
export function uniquePrefix(): string {
  return `test:cache-client:${randomUUID()}:`;
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
