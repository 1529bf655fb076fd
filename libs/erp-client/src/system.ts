import {
  Bulkhead,
  type CircuitBreaker,
  type Clock,
  isBulkheadFullError,
  type Logger,
  RetryBudget,
  RetryPolicy,
} from '@gl-vcci/breaker-core';
import { classifyErpError } from './classify.js';
import { isErpUpstreamError, type PageTarget } from './errors.js';
import type { ErpMetrics } from './metrics.js';
import type { ResolvedOptions, ResolvedSystem } from './options.js';
import type { ListQuery, PageReading, PageRequest, SystemAdapter } from './systems/adapter.js';
import { createPageFetcher, type PageFetcher } from './systems/http.js';
import { ADAPTERS } from './systems/index.js';
import type { ErpListKind, ErpSystemStatus } from './types.js';

/** One page read, numbered, with the request that read it and the next one. */
export interface WalkedPage extends PageReading {
  page: number;
  request: PageRequest;
}

/**
 * One ERP system: its adapter, its HTTP fetcher, and the policies every page goes through, from
 * the outside in: retry (backoff with jitter, Retry-After, a budget shared by the system's pages,
 * never through an open circuit) → bulkhead (connection_pool_size pages at once, max_queue
 * waiting; our saturation, never counted) → breaker (the page deadline, call_timeout; the
 * classifier) → the request.
 */
export class ErpSystemRunner {
  readonly adapter: SystemAdapter;
  readonly fetcher: PageFetcher;
  readonly bulkhead: Bulkhead;
  readonly retry: RetryPolicy;

  constructor(
    readonly settings: ResolvedSystem,
    readonly breaker: CircuitBreaker,
    o: ResolvedOptions,
    clock: Clock,
    private readonly logger: Logger,
    private readonly metrics: ErpMetrics,
    closing: AbortSignal,
  ) {
    this.adapter = ADAPTERS[settings.name](settings);
    this.fetcher = createPageFetcher({
      adapter: this.adapter,
      baseUrl: settings.baseUrl,
      auth: settings.auth,
      idleTimeoutMs: o.idleTimeoutMs,
      maxRetryAfterMs: o.maxRetryAfterMs,
      clock,
      closing,
    });
    this.bulkhead = new Bulkhead({ maxConcurrent: settings.poolSize, maxQueue: settings.maxQueue, clock });
    this.retry = new RetryPolicy({
      ...o.retry,
      clock,
      budget: new RetryBudget({ clock }),
      shouldRetry: (error) =>
        classifyErpError(error) === 'failure' &&
        !isBulkheadFullError(error) &&
        !(isErpUpstreamError(error) && error.credentialsRefused),
    });
  }

  /** The pages of a list from `start`, each through the policies; the walk's `signal` and retry `deadline` bound it. */
  async *walk(
    kind: ErpListKind,
    query: ListQuery,
    start: { page: number; request: PageRequest },
    signal: AbortSignal,
    deadline?: number,
  ): AsyncGenerator<WalkedPage> {
    let request: PageRequest | undefined = start.request;
    for (let page = start.page; request !== undefined; page++) {
      const reading = await this.page(
        kind,
        request,
        query,
        { system: this.settings.name, kind, page },
        signal,
        deadline,
      );
      yield { ...reading, page, request };
      request = reading.next;
    }
  }

  page(
    kind: ErpListKind,
    request: PageRequest,
    query: ListQuery,
    target: PageTarget,
    signal: AbortSignal,
    deadline?: number,
  ): Promise<PageReading> {
    return this.retry.execute(
      (s) =>
        this.#slot(
          (s2) => this.breaker.execute((s3) => this.#fetch(kind, request, query, target, s3), { signal: s2 }),
          s,
        ),
      { signal, ...(deadline === undefined ? {} : { deadline }) },
    );
  }

  async #fetch(kind: ErpListKind, request: PageRequest, query: ListQuery, target: PageTarget, signal: AbortSignal) {
    try {
      const reading = await this.fetcher.fetch(kind, request, query, target, signal);
      this.metrics.page(this.settings.name, kind, reading.records.length);
      return reading;
    } catch (error) {
      if (isErpUpstreamError(error) && error.credentialsRefused) {
        // The deployment's credentials, not the caller: on-call must see it, and see which system.
        const { name, circuitName } = this.settings;
        this.logger.error(
          { system: name, circuit: circuitName, status: error.status, where: error.where },
          `credentials refused by ${name}${error.where ? ` (${error.where})` : ''} (HTTP ${error.status}): check the ERP credentials`,
        );
      }
      throw error;
    }
  }

  /** fn in a bulkhead slot, the gauges following the bulkhead as it fills and drains. */
  #slot<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    const publish = () => this.metrics.bulkhead(this.settings.name, this.bulkhead.running, this.bulkhead.queued);
    const running = this.bulkhead.execute(
      (s) => {
        publish();
        return fn(s);
      },
      { signal },
    );
    publish();
    return running.finally(publish);
  }

  status(): ErpSystemStatus {
    const { poolSize, maxQueue, cacheTtlMs, staleMaxAgeMs, fetchDeadlineMs } = this.settings;
    return {
      inFlight: this.bulkhead.running,
      maxConcurrent: poolSize,
      queued: this.bulkhead.queued,
      maxQueue,
      cacheTtlMs,
      staleMaxAgeMs,
      fetchDeadlineMs,
    };
  }
}
