import { ensureMetric } from '@gl-vcci/breaker-core';
import { zeroedCounter } from '@gl-vcci/breaker-core/client';
import { Gauge, type Registry, register } from 'prom-client';

export const SYNC_EVENTS_METRIC = 'greenlang_circuit_breaker_sync_events_total';
export const SYNC_CONNECTED_METRIC = 'greenlang_circuit_breaker_sync_connected';

/**
 * What the sync did for a circuit: `published_open` (a trip shared, quorum reached),
 * `counted_trip` (a trip counted below the quorum), `published_close`, `adopted_open`,
 * `adopted_close`, `probe_won`, `probe_lost`, `resynced` (an opening shared again after Redis came
 * back), `unsynced` (a command Redis did not take: the replica went on alone).
 */
export const SYNC_EVENTS = [
  'published_open',
  'counted_trip',
  'published_close',
  'adopted_open',
  'adopted_close',
  'probe_won',
  'probe_lost',
  'resynced',
  'unsynced',
] as const;
export type SyncEvent = (typeof SYNC_EVENTS)[number];

export interface SyncMetrics {
  /** Starts every series of a circuit at 0. */
  track(circuit: string): void;
  inc(circuit: string, event: SyncEvent): void;
  /** The gauge stops reading this sync. */
  close(): void;
}

const SOURCES = new WeakMap<Registry, Set<() => boolean>>();

/** The sync's counters and its connection gauge on `registry` (prom-client's global one by default). */
export function createSyncMetrics(registry: Registry | undefined, connected: () => boolean): SyncMetrics {
  const target = registry ?? register;
  const counter = zeroedCounter(target, {
    name: SYNC_EVENTS_METRIC,
    help: 'Circuit transitions shared with or adopted from other replicas through Redis, and probe leases, by event',
    labelNames: ['circuit_name', 'event'],
    series: [],
  })!;
  let sources = SOURCES.get(target);
  if (!sources) {
    sources = new Set();
    SOURCES.set(target, sources);
  }
  sources.add(connected);
  const all = sources;
  ensureMetric(
    target,
    SYNC_CONNECTED_METRIC,
    (registers) =>
      new Gauge({
        name: SYNC_CONNECTED_METRIC,
        help: '1 while the breaker sync reaches Redis, 0 while each replica goes on alone',
        registers,
        // Read at scrape time; with two syncs on one registry, 1 only when both reach Redis.
        collect() {
          this.set([...all].every((source) => source()) ? 1 : 0);
        },
      }),
  );
  return {
    track(circuit) {
      for (const event of SYNC_EVENTS) counter.inc({ circuit_name: circuit, event }, 0);
    },
    inc(circuit, event) {
      counter.inc({ circuit_name: circuit, event });
    },
    close() {
      all.delete(connected);
    },
  };
}
