import { ensureMetric } from '@gl-vcci/breaker-core';
import { Counter, type Registry } from 'prom-client';

export type Tier = 'redis' | 'local';
export type LookupResult = 'hit' | 'miss' | 'error';

export const REQUESTS_METRIC = 'greenlang_cache_requests_total';
export const CONNECTION_ERRORS_METRIC = 'greenlang_cache_connection_errors_total';
export const UNSYNCED_DROPPED_METRIC = 'greenlang_cache_unsynced_keys_dropped_total';

/** The cache client's own metrics, beside the breaker's. */
export interface CacheMetrics {
  /** One key looked up in one tier. */
  lookup(tier: Tier, result: LookupResult): void;
  /** One 'error' event from the Redis connection. */
  connectionError(): void;
  /** One local-only write whose key could not be tracked for reconciliation (the bound was reached). */
  unsyncedDropped(): void;
}

/** The series that can move: the local tier is in-process memory and has no error of its own. */
const SERIES: ReadonlyArray<[Tier, LookupResult]> = [
  ['redis', 'hit'],
  ['redis', 'miss'],
  ['redis', 'error'],
  ['local', 'hit'],
  ['local', 'miss'],
];

const NO_METRICS: CacheMetrics = { lookup() {}, connectionError() {}, unsyncedDropped() {} };

/**
 * Registers (or reuses: two clients in one process share the series) the cache collectors in the
 * registry the breakers report to. No registry: metrics are off.
 */
export function createCacheMetrics(registry: Registry | undefined): CacheMetrics {
  if (!registry) return NO_METRICS;
  const requests = ensureMetric(
    registry,
    REQUESTS_METRIC,
    (registers) =>
      new Counter({
        name: REQUESTS_METRIC,
        help: 'Cache lookups by tier (redis, local) and result (hit, miss, error); mget counts each key',
        labelNames: ['tier', 'result'],
        registers,
      }),
  );
  const connectionErrors = ensureMetric(
    registry,
    CONNECTION_ERRORS_METRIC,
    (registers) =>
      new Counter({
        name: CONNECTION_ERRORS_METRIC,
        help: "'error' events of the Redis connection (failed connects, dropped sockets, failed PINGs), handled and counted, never thrown",
        registers,
      }),
  );
  const unsyncedDropped = ensureMetric(
    registry,
    UNSYNCED_DROPPED_METRIC,
    (registers) =>
      new Counter({
        name: UNSYNCED_DROPPED_METRIC,
        help: 'Writes and deletes that reached only the local tier and could not be tracked for reconciliation (too many pending keys): Redis may serve an older copy of those keys until its TTL',
        registers,
      }),
  );
  // Every series exists from the start at 0, so rates and ratios are defined before the first miss.
  const children = { redis: {}, local: {} } as Record<Tier, Record<LookupResult, Counter.Internal>>;
  for (const [tier, result] of SERIES) {
    requests.inc({ tier, result }, 0);
    children[tier][result] = requests.labels({ tier, result });
  }
  connectionErrors.inc(0);
  unsyncedDropped.inc(0);
  return {
    lookup(tier, result) {
      children[tier][result].inc();
    },
    connectionError() {
      connectionErrors.inc();
    },
    unsyncedDropped() {
      unsyncedDropped.inc();
    },
  };
}
