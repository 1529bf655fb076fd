import { zeroedCounter } from '@gl-vcci/breaker-core/client';
import type { Registry } from 'prom-client';
import type { CacheTier } from './types.js';

export type LookupResult = 'hit' | 'miss' | 'error';

export const REQUESTS_METRIC = 'greenlang_cache_requests_total';
export const CONNECTION_ERRORS_METRIC = 'greenlang_cache_connection_errors_total';
export const UNSYNCED_DROPPED_METRIC = 'greenlang_cache_unsynced_keys_dropped_total';

/** The cache client's own metrics, beside the breaker's. */
export interface CacheMetrics {
  /** One key looked up in one tier. */
  lookup(tier: CacheTier, result: LookupResult): void;
  /** One 'error' event from the Redis connection. */
  connectionError(): void;
  /** One local-only write whose key could not be tracked for reconciliation (the bound was reached). */
  unsyncedDropped(): void;
}

/** The series that can move: the local tier is in-process memory and has no error of its own. */
const LOOKUP_SERIES: ReadonlyArray<{ tier: CacheTier; result: LookupResult }> = [
  { tier: 'redis', result: 'hit' },
  { tier: 'redis', result: 'miss' },
  { tier: 'redis', result: 'error' },
  { tier: 'local', result: 'hit' },
  { tier: 'local', result: 'miss' },
];

/**
 * The cache collectors in the registry the breakers report to (two clients in one process share
 * the series), every series at 0 from the start so rates are defined before the first miss.
 * No registry: metrics are off.
 */
export function createCacheMetrics(registry: Registry | undefined): CacheMetrics {
  const requests = zeroedCounter(registry, {
    name: REQUESTS_METRIC,
    help: 'Cache lookups by tier (redis, local) and result (hit, miss, error); mget counts each key',
    labelNames: ['tier', 'result'],
    series: LOOKUP_SERIES,
  });
  const connectionErrors = zeroedCounter(registry, {
    name: CONNECTION_ERRORS_METRIC,
    help: "'error' events of the Redis connection (failed connects, dropped sockets, failed PINGs), handled and counted, never thrown",
    labelNames: [],
    series: [{}],
  });
  const unsyncedDropped = zeroedCounter(registry, {
    name: UNSYNCED_DROPPED_METRIC,
    help: 'Writes and deletes that reached only the local tier and could not be tracked for reconciliation (too many pending keys): Redis may serve an older copy of those keys until its TTL',
    labelNames: [],
    series: [{}],
  });
  const children = requests && {
    redis: {
      hit: requests.labels('redis', 'hit'),
      miss: requests.labels('redis', 'miss'),
      error: requests.labels('redis', 'error'),
    },
    local: {
      hit: requests.labels('local', 'hit'),
      miss: requests.labels('local', 'miss'),
      error: requests.labels('local', 'error'),
    },
  };
  return {
    lookup(tier, result) {
      children?.[tier][result].inc();
    },
    connectionError() {
      connectionErrors?.inc();
    },
    unsyncedDropped() {
      unsyncedDropped?.inc();
    },
  };
}
