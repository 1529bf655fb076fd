import { type Clock, errorMessage, isFallbackExhaustedError, type Logger, TimeoutError } from '@gl-vcci/breaker-core';
import { closingController, failover, LocalStore, raceAbort, SingleFlight } from '@gl-vcci/breaker-core/client';
import { ListCache, type Reasons } from './cache.js';
import { classifyErpError } from './classify.js';
import {
  ErpArgumentError,
  ErpClosedError,
  ErpPageError,
  ErpUnavailableError,
  isErpClosedError,
  isErpRequestError,
} from './errors.js';
import { createErpMetrics } from './metrics.js';
import { DEFAULTS, type ResolvedOptions, resolveOptions } from './options.js';
import { cacheKey, checkCall, decodeCursor, encodeCursor } from './query.js';
import { ErpSystemRunner } from './system.js';
import type { ErpRecord, ListQuery, PageReading, PageRequest } from './systems/adapter.js';
import type {
  CachedList,
  ErpClient,
  ErpClientOptions,
  ErpClientStatus,
  ErpListKind,
  ErpPage,
  ErpResult,
  ErpSystem,
  FetchOptions,
  PagesOptions,
  PurchaseOrderLine,
  PurchaseOrderQuery,
  Supplier,
  SupplierFilters,
} from './types.js';

/** The caller's own request (4xx) or a closed client: never hidden by a cached list. */
const stopOn = (error: unknown) => isErpRequestError(error) || isErpClosedError(error);

/**
 * Suppliers and purchase-order lines from SAP, Oracle and Workday, each system behind its own
 * `erp_connectors.<system>` circuit and bulkhead. A list is live only when every page was read;
 * otherwise the last complete list for the same query answers (`cache`, `stale`), or nothing does.
 * Options and each system's file settings are checked here, once: a ConfigError names every bad one.
 */
export function createErpClient(options: ErpClientOptions): ErpClient {
  return new Erp(resolveOptions(options));
}

class Erp implements ErpClient {
  readonly #systems = new Map<ErpSystem, ErpSystemRunner>();
  readonly #cache: ListCache;
  readonly #logger: Logger;
  readonly #clock: Clock;
  /** Identical fetches in flight share one walk of the list. */
  readonly #flights = new SingleFlight<ErpResult<ErpRecord>>();
  /** Aborted by `close()`: running fetches stop with ErpClosedError. */
  readonly #closing = closingController();

  constructor(o: ResolvedOptions) {
    this.#clock = o.registry.clock;
    this.#logger = o.logger.child({ client: 'erp' });
    const metrics = createErpMetrics(
      o.registry.metricsRegistry,
      o.systems.map((s) => s.name),
    );
    for (const s of o.systems) {
      const breaker = o.registry.breaker(s.circuitName, s.breaker, {
        classify: classifyErpError,
        callTimeoutMs: DEFAULTS.callTimeoutMs,
      });
      this.#systems.set(
        s.name,
        new ErpSystemRunner(s, breaker, o, this.#clock, this.#logger, metrics, this.#closing.signal),
      );
    }
    const store =
      o.cache ??
      new LocalStore<CachedList>({ maxEntries: o.local.maxEntries, maxBytes: o.local.maxBytes, clock: this.#clock });
    this.#cache = new ListCache(store, this.#clock, this.#logger);
  }

  fetchSuppliers(system: ErpSystem, filters?: SupplierFilters, options?: FetchOptions): Promise<ErpResult<Supplier>> {
    return this.#fetch('fetchSuppliers', system, 'suppliers', filters, options) as Promise<ErpResult<Supplier>>;
  }

  fetchPurchaseOrders(
    system: ErpSystem,
    query?: PurchaseOrderQuery,
    options?: FetchOptions,
  ): Promise<ErpResult<PurchaseOrderLine>> {
    return this.#fetch('fetchPurchaseOrders', system, 'purchaseOrders', query, options) as Promise<
      ErpResult<PurchaseOrderLine>
    >;
  }

  async #fetch(
    method: string,
    systemArg: unknown,
    kind: ErpListKind,
    queryArg: unknown,
    options: unknown,
  ): Promise<ErpResult<ErpRecord>> {
    if (this.#closing.signal.aborted) throw new ErpClosedError();
    const { system, query, signal } = checkCall(
      method,
      [...this.#systems.keys()],
      systemArg,
      kind,
      queryArg,
      options,
      false,
    );
    const runner = this.#systems.get(system)!;
    const key = cacheKey(system, kind, query);
    const why: Reasons = {};
    try {
      const { value } = await failover<ErpResult<ErpRecord>>(
        [
          {
            name: system,
            run: (s) =>
              raceAbort(
                this.#flights.run(key, () => this.#live(runner, kind, query, key, why)),
                s,
              ),
          },
        ],
        { between: this.#cache.steps<ErpRecord>(key, runner.settings, why), stopOn, ...(signal ? { signal } : {}) },
      );
      if (value.source !== 'live') {
        this.#logger.warn(
          { system, kind, source: value.source, ageMs: value.ageMs, why },
          `erp ${system} ${kind}: served the last complete list (${value.source}) because the live fetch failed`,
        );
      }
      return value;
    } catch (error) {
      if (!isFallbackExhaustedError(error)) throw error;
      throw new ErpUnavailableError(system, kind, error, why);
    }
  }

  /**
   * The shared live fetch: every page, in order, on the whole-fetch deadline (registry clock) and
   * `close()`, whoever stops waiting for it. Only a list read to its last page is returned and
   * cached: a failure on any page fails the whole fetch.
   */
  async #live(
    runner: ErpSystemRunner,
    kind: ErpListKind,
    query: ListQuery,
    key: string,
    why: Reasons,
  ): Promise<ErpResult<ErpRecord>> {
    const { fetchDeadlineMs, staleMaxAgeMs, circuitName } = runner.settings;
    const deadline = new AbortController();
    const timer = this.#clock.setTimeout(
      () => deadline.abort(new TimeoutError(`${circuitName} (whole fetch)`, fetchDeadlineMs)),
      fetchDeadlineMs,
    );
    const signal = AbortSignal.any([deadline.signal, this.#closing.signal]);
    const records: ErpRecord[] = [];
    let page = 0;
    try {
      const first = runner.adapter.first(kind, query, runner.settings.pageSize);
      for await (const read of runner.walk(
        kind,
        query,
        { page: 1, request: first },
        signal,
        this.#clock.now() + fetchDeadlineMs,
      )) {
        page = read.page;
        for (const record of read.records) records.push(record);
      }
    } catch (error) {
      if (this.#closing.signal.aborted) throw this.#closing.signal.reason;
      const cause = errorMessage(deadline.signal.aborted ? deadline.signal.reason : error);
      why.live =
        page === 0
          ? cause
          : `${cause} (after ${page} complete page${page === 1 ? '' : 's'}; the partial list was dropped)`;
      throw error;
    } finally {
      this.#clock.clearTimeout(timer);
    }
    this.#cache.write(key, { records, fetchedAt: this.#clock.now() }, staleMaxAgeMs);
    return { value: records, source: 'live' };
  }

  pages(
    system: ErpSystem,
    kind: 'suppliers',
    query?: SupplierFilters,
    options?: PagesOptions,
  ): AsyncIterable<ErpPage<Supplier>>;
  pages(
    system: ErpSystem,
    kind: 'purchaseOrders',
    query?: PurchaseOrderQuery,
    options?: PagesOptions,
  ): AsyncIterable<ErpPage<PurchaseOrderLine>>;
  pages(
    system: ErpSystem,
    kind: ErpListKind,
    query?: unknown,
    options?: PagesOptions,
  ): AsyncIterable<ErpPage<ErpRecord>> {
    // Checked now, not at the first next(): a bad call throws where it is made.
    if (this.#closing.signal.aborted) throw new ErpClosedError();
    if (kind !== 'suppliers' && kind !== 'purchaseOrders') {
      const message = `expected "suppliers" or "purchaseOrders", got ${JSON.stringify(String(kind))}`;
      throw new ErpArgumentError(`pages: kind: ${message}`, [{ path: 'kind', message }]);
    }
    const call = checkCall('pages', [...this.#systems.keys()], system, kind, query, options, true);
    const runner = this.#systems.get(call.system)!;
    const key = cacheKey(call.system, kind, call.query);
    const first = runner.adapter.first(kind, call.query, runner.settings.pageSize);
    const start = call.cursor === undefined ? { page: 1, request: first } : decodeCursor(call.cursor, key, first);
    return this.#walkPages(runner, kind, call.query, key, start, call.signal);
  }

  async *#walkPages(
    runner: ErpSystemRunner,
    kind: ErpListKind,
    query: ListQuery,
    key: string,
    start: { page: number; request: PageRequest },
    caller: AbortSignal | undefined,
  ): AsyncGenerator<ErpPage<ErpRecord>> {
    const signal = caller ? AbortSignal.any([caller, this.#closing.signal]) : this.#closing.signal;
    let at = start;
    let read = 0;
    for (;;) {
      let reading: PageReading;
      try {
        reading = await runner.page(
          kind,
          at.request,
          query,
          { system: runner.settings.name, kind, page: at.page },
          signal,
        );
      } catch (error) {
        if (this.#closing.signal.aborted) throw this.#closing.signal.reason;
        if (caller?.aborted || isErpRequestError(error)) throw error;
        throw new ErpPageError(
          { system: runner.settings.name, kind, page: at.page },
          encodeCursor(key, at.page, at.request),
          read,
          error,
        );
      }
      read++;
      const next = reading.next && { page: at.page + 1, request: reading.next };
      yield { records: reading.records, page: at.page, cursor: next && encodeCursor(key, next.page, next.request) };
      if (!next) return;
      at = next;
    }
  }

  status(): ErpClientStatus {
    const circuits: ErpClientStatus['circuits'] = {};
    const systems: ErpClientStatus['systems'] = {};
    for (const [name, runner] of this.#systems) {
      circuits[runner.settings.circuitName] = runner.breaker.state;
      systems[name] = runner.status();
    }
    return { circuits, closed: this.#closing.signal.aborted, systems };
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new ErpClosedError());
    for (const runner of this.#systems.values()) runner.fetcher.close();
  }
}
