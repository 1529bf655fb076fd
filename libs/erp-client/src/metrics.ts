import { ensureMetric } from '@gl-vcci/breaker-core';
import { zeroedCounter } from '@gl-vcci/breaker-core/client';
import { Gauge, type Registry } from 'prom-client';
import type { ErpListKind, ErpSystem } from './types.js';

export const RECORDS_METRIC = 'greenlang_erp_records_fetched_total';
export const PAGES_METRIC = 'greenlang_erp_pages_total';
export const BULKHEAD_IN_USE_METRIC = 'greenlang_erp_bulkhead_in_use';
export const BULKHEAD_QUEUED_METRIC = 'greenlang_erp_bulkhead_queued';

const KINDS: readonly ErpListKind[] = ['suppliers', 'purchaseOrders'];

export interface ErpMetrics {
  /** A page read live, with its records. */
  page(system: ErpSystem, kind: ErpListKind, records: number): void;
  /** The bulkhead of `system` now: pages running and pages waiting for a slot. */
  bulkhead(system: ErpSystem, inUse: number, queued: number): void;
}

/**
 * The client's metrics, in the registry the breakers report to (shared by two clients in one
 * process: the bulkhead gauges then show the last client to move); no registry, no metrics. Labels
 * are configured system names and fixed list kinds only, never request data.
 */
export function createErpMetrics(registry: Registry | undefined, systems: readonly ErpSystem[]): ErpMetrics {
  const records = zeroedCounter(registry, {
    name: RECORDS_METRIC,
    help: 'ERP records read live, by system and list (suppliers, purchaseOrders); pages of a fetch that later failed included',
    labelNames: ['system', 'kind'],
    series: systems.flatMap((system) => KINDS.map((kind) => ({ system, kind }))),
  });
  const pages = zeroedCounter(registry, {
    name: PAGES_METRIC,
    help: 'ERP pages read live, by system',
    labelNames: ['system'],
    series: systems.map((system) => ({ system })),
  });
  const gauge = (name: string, help: string) =>
    registry
      ? ensureMetric(registry, name, (registers) => new Gauge({ name, help, labelNames: ['system'], registers }))
      : undefined;
  const inUse = gauge(
    BULKHEAD_IN_USE_METRIC,
    'ERP pages running now, by system (bulkhead slots taken, at most connection_pool_size)',
  );
  const queued = gauge(BULKHEAD_QUEUED_METRIC, 'ERP pages waiting for a bulkhead slot, by system (at most max_queue)');
  for (const system of systems) {
    inUse?.set({ system }, 0);
    queued?.set({ system }, 0);
  }
  return {
    page(system, kind, count) {
      pages?.inc({ system });
      records?.inc({ system, kind }, count);
    },
    bulkhead(system, running, waiting) {
      inUse?.set({ system }, running);
      queued?.set({ system }, waiting);
    },
  };
}
