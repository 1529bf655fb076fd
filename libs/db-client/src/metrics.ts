import { ensureMetric, isCircuitOpenError, isTimeoutError } from '@gl-vcci/breaker-core';
import { type ScrapedHistogram, scrapedHistogram, zeroedCounter } from '@gl-vcci/breaker-core/client';
import { type Counter, Gauge, type Registry } from 'prom-client';
import { classifyPgError } from './classify.js';
import { isDbPoolFullError, isDbUnavailableError } from './errors.js';

/** What a query came to, as the `outcome` label says it. */
export type QueryOutcome =
  | 'success' // answered by the primary
  | 'failover' // answered by the replica
  | 'error' // the caller's fault (bad SQL, constraint, auth...): passed through, not counted by the circuit
  | 'failure' // the database was unavailable
  | 'timeout' // statement timeout, query read timeout or the circuit's deadline
  | 'rejected' // refused before reaching the database: the circuit was open (and no replica served it) or the pool full
  | 'aborted'; // the caller's signal fired

export type ConnectionState = 'idle' | 'held';

/** The `pool` label of `greenlang_db_pool_connections`. */
export type PoolRole = 'primary' | 'replica';

/** A client's pools: the primary's, and the replica's when it has one. */
export type ClientPools = { readonly [role in PoolRole]?: PoolCounts } & { readonly primary: PoolCounts };

/** The pool's live counts, read at scrape time. */
export interface PoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

export const POOL_CONNECTIONS_METRIC = 'greenlang_db_pool_connections';
export const QUERY_DURATION_METRIC = 'greenlang_db_query_duration_seconds';
export const CONNECTION_ERRORS_METRIC = 'greenlang_db_connection_errors_total';

// The pools a shared gauge reads, kept on the gauge itself: two clients on one prom-client
// registry share the series (ensureMetric), so its collect hook must see both pools.
const POOLS = Symbol.for('@gl-vcci/db-client.pools');
type PoolGauge = Gauge<'pool' | 'state'> & { [POOLS]: Set<ClientPools> };

/**
 * The client's own metrics, beside breaker-core's circuit metrics in the registry's prom-client
 * registry. Labels come from states, outcomes and caller-given query names, never from SQL.
 */
export class DbMetrics {
  readonly #gauge: PoolGauge | undefined;
  readonly #duration: ScrapedHistogram<'name' | 'outcome'> | undefined;
  readonly #errors: Counter<'state'> | undefined;
  readonly #pools: ClientPools;

  /** `registry` undefined: metrics are off in the BreakerRegistry, every method is a no-op. */
  constructor(registry: Registry | undefined, pools: ClientPools) {
    this.#pools = pools;
    if (!registry) return;
    this.#gauge = ensureMetric(registry, POOL_CONNECTIONS_METRIC, (registers) => {
      const pools = new Set<ClientPools>();
      const gauge = new Gauge({
        name: POOL_CONNECTIONS_METRIC,
        help: 'Connections of the PostgreSQL pools (primary, replica): total open, idle, and callers waiting for one',
        labelNames: ['pool', 'state'],
        registers,
        collect() {
          this.reset();
          for (const role of ['primary', 'replica'] as const) {
            const counts = [...pools].flatMap((p) => p[role] ?? []);
            // No replica configured in any client: no replica series.
            if (role === 'replica' && counts.length === 0) continue;
            let total = 0;
            let idle = 0;
            let waiting = 0;
            for (const c of counts) {
              total += c.totalCount;
              idle += c.idleCount;
              waiting += c.waitingCount;
            }
            this.set({ pool: role, state: 'total' }, total);
            this.set({ pool: role, state: 'idle' }, idle);
            this.set({ pool: role, state: 'waiting' }, waiting);
          }
        },
      });
      return Object.assign(gauge, { [POOLS]: pools });
    });
    this.#gauge[POOLS].add(pools);
    this.#duration = scrapedHistogram(registry, {
      name: QUERY_DURATION_METRIC,
      help: 'Duration of database queries by caller-given name and outcome, in seconds',
      labelNames: ['name', 'outcome'],
    });
    this.#errors = zeroedCounter(registry, {
      name: CONNECTION_ERRORS_METRIC,
      help: 'Connections that failed under the pool: idle in the pool, or held by a caller (transaction, withClient)',
      labelNames: ['state'],
      series: [{ state: 'idle' }, { state: 'held' }],
    });
  }

  observeQuery(name: string, outcome: QueryOutcome, seconds: number): void {
    this.#duration?.observe({ name, outcome }, seconds);
  }

  connectionError(state: ConnectionState): void {
    this.#errors?.inc({ state });
  }

  /** Stops reporting this client's pools (its other series stay, like every prom-client counter). */
  close(): void {
    this.#gauge?.[POOLS].delete(this.#pools);
  }
}

/** The `outcome` label of a query that threw `error`. */
export function outcomeOf(error: unknown, signal: AbortSignal | undefined): QueryOutcome {
  if (signal?.aborted) return 'aborted';
  if (isCircuitOpenError(error) || isDbPoolFullError(error)) return 'rejected';
  if (isDbUnavailableError(error)) return 'failure';
  if (isTimeoutError(error)) return 'timeout';
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (
    code === '57014' ||
    message === 'Query read timeout' ||
    message === 'timeout exceeded when trying to connect' ||
    message === 'Connection terminated due to connection timeout'
  ) {
    return 'timeout';
  }
  return classifyPgError(error) === 'failure' ? 'failure' : 'error';
}
