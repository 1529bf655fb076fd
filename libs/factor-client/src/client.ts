import {
  type CircuitBreaker,
  type Clock,
  errorMessage,
  isFallbackExhaustedError,
  type Logger,
  type Outcome,
} from '@gl-vcci/breaker-core';
import {
  closingController,
  type FailoverResult,
  failover,
  LocalStore,
  loggedError,
  raceAbort,
  SingleFlight,
} from '@gl-vcci/breaker-core/client';
import { AnswerCache, cacheKey, type Reasons, strip } from './cache.js';
import { citationText, findDefault } from './defaults.js';
import {
  FactorClosedError,
  FactorUnavailableError,
  isFactorClosedError,
  isFactorRequestError,
  isFactorUpstreamError,
} from './errors.js';
import { createFactorMetrics, type FactorMetrics } from './metrics.js';
import { BREAKER_DEFAULTS, type ResolvedOptions, type ResolvedSource, resolveOptions } from './options.js';
import { checkQuery, type QuerySchema, querySchema } from './query.js';
import type { LiveFactor } from './sources/adapter.js';
import { createSourceFetcher, type SourceFetcher } from './sources/http.js';
import { ADAPTERS } from './sources/index.js';
import type {
  CachedFactor,
  FactorClient,
  FactorClientOptions,
  FactorClientStatus,
  FactorQuery,
  FactorResult,
  FactorSourceName,
  GetFactorOptions,
} from './types.js';

interface Upstream {
  source: ResolvedSource;
  breaker: CircuitBreaker;
  fetcher: SourceFetcher;
}

/** A live lookup's outcome: the answer, or the circuit's refusal as a value (no error built while a source is down). */
type LiveOutcome = { ok: true; entry: CachedFactor } | { ok: false; why: string };

/** The caller's own question (4xx, an answer to another question) or a closed client: never hidden by a fallback. */
const stopOn = (error: unknown) => isFactorRequestError(error) || isFactorClosedError(error);

/**
 * Emission factors from the configured sources, each behind its own `factor_broker.<source>`
 * circuit, with the chain live → cache → stale → failover → default. Options and each source's
 * file settings are checked here, once: a ConfigError names every bad one.
 */
export function createFactorClient(options: FactorClientOptions): FactorClient {
  return new FactorBroker(resolveOptions(options));
}

class FactorBroker implements FactorClient {
  readonly #upstreams = new Map<FactorSourceName, Upstream>();
  readonly #cache: AnswerCache;
  readonly #defaults: ResolvedOptions['defaults'];
  readonly #metrics: FactorMetrics;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #schema: QuerySchema;
  /** Concurrent identical lookups share one upstream call. */
  readonly #flights = new SingleFlight<LiveOutcome>();
  /** Aborted by `close()`: running requests stop with FactorClosedError. */
  readonly #closing = closingController();

  constructor(o: ResolvedOptions) {
    this.#clock = o.registry.clock;
    for (const source of o.sources) {
      const breaker = o.registry.breaker(source.circuitName, source.breaker, BREAKER_DEFAULTS);
      const fetcher = createSourceFetcher({
        adapter: ADAPTERS[source.name],
        baseUrl: source.baseUrl,
        headers: source.headers,
        idleTimeoutMs: o.idleTimeoutMs,
        maxRetryAfterMs: o.maxRetryAfterMs,
        closing: this.#closing.signal,
      });
      this.#upstreams.set(source.name, { source, breaker, fetcher });
    }
    const names = [...this.#upstreams.keys()];
    this.#defaults = o.defaults;
    this.#metrics = createFactorMetrics(o.registry.metricsRegistry, names);
    this.#logger = o.logger.child({ client: 'factor' });
    const store =
      o.cache ??
      new LocalStore<CachedFactor>({
        maxEntries: o.local.maxEntries,
        ...(o.local.maxBytes === undefined ? {} : { maxBytes: o.local.maxBytes }),
        clock: this.#clock,
      });
    this.#cache = new AnswerCache(store, this.#clock, this.#logger);
    this.#schema = querySchema(names);
  }

  async getFactor(query: FactorQuery, options?: GetFactorOptions): Promise<FactorResult> {
    if (this.#closing.signal.aborted) throw new FactorClosedError();
    const q = checkQuery(this.#schema, query, options);
    const primary = this.#upstreams.get(q.source)!;
    const other = primary.source.failover === undefined ? undefined : this.#upstreams.get(primary.source.failover);
    const why: Reasons = {};
    const ages = primary.source;
    // Factors change yearly: a fresh cached answer is served without a request (refreshed in the
    // background near its expiry); the source is asked on a miss or an expired entry.
    const cached = await raceAbort(this.#cache.lookup(q, ages, why), options?.signal);
    if (cached.fresh) {
      if (cached.refresh) this.#refresh(primary, q);
      this.#metrics.lookup(q.source, 'cache');
      return cached.fresh;
    }
    let result: FailoverResult<FactorResult>;
    try {
      result = await failover<FactorResult>(
        // Steps that take no signal (the caller's is passed as it is): none is made per call.
        [
          { name: q.source, run: () => this.#ask(primary, q, options?.signal, why, 'live') },
          ...(other
            ? [{ name: other.source.name, run: () => this.#ask(other, q, options?.signal, why, 'failover') }]
            : []),
        ],
        {
          between: [this.#cache.staleStep(cached.entry, ages.staleMaxAgeMs, why)],
          last: [{ source: 'default', run: () => this.#default(q, why) }],
          stopOn,
          ...(options?.signal ? { signal: options.signal } : {}),
        },
      );
    } catch (error) {
      this.#metrics.lookup(q.source, 'error');
      if (!isFallbackExhaustedError(error)) throw error;
      const target = { source: q.source, activity: q.activity, region: q.region, year: q.year };
      throw new FactorUnavailableError(target, error, why);
    }
    const { value } = result;
    this.#metrics.lookup(q.source, value.source);
    if (value.source !== 'live') {
      this.#logger.debug({ factorSource: q.source, source: value.source, why }, 'factor served from fallback');
    }
    return value;
  }

  status(): FactorClientStatus {
    const circuits: FactorClientStatus['circuits'] = {};
    const sources: FactorClientStatus['sources'] = {};
    for (const { source, breaker } of this.#upstreams.values()) {
      circuits[source.circuitName] = breaker.state;
      const { name, failover, cacheTtlMs, staleMaxAgeMs } = source;
      sources[name] = { failover, cacheTtlMs, staleMaxAgeMs };
    }
    return { circuits, closed: this.#closing.signal.aborted, sources };
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new FactorClosedError());
    for (const { fetcher } of this.#upstreams.values()) fetcher.close();
  }

  /**
   * One upstream asked live, as the primary (`live`) or as the failover (`failover`, asked the
   * same activity, region, year and unit). The failover's own "not found" or "not as asked" is
   * no value, not the caller's mistake: the caller asked the primary.
   */
  async #ask(
    upstream: Upstream,
    query: FactorQuery,
    signal: AbortSignal | undefined,
    why: Reasons,
    role: 'live' | 'failover',
  ): Promise<FactorResult | undefined> {
    const q = { ...query, source: upstream.source.name };
    const key = cacheKey(q);
    let outcome: LiveOutcome;
    try {
      outcome = await raceAbort(
        this.#flights.run(key, () => this.#fetchLive(upstream, q, key)),
        signal,
      );
    } catch (error) {
      if (role === 'live' || !isFactorRequestError(error)) throw error;
      why.failover = errorMessage(error);
      return undefined;
    }
    if (!outcome.ok) {
      why[role] = role === 'live' ? outcome.why : `${upstream.source.name}: ${outcome.why}`;
      return undefined;
    }
    return { ...strip(outcome.entry), source: role, quality: role === 'live' ? 'high' : 'reduced' };
  }

  /** A background refresh of a cached answer near its expiry: coalesced, through the circuit, never thrown. */
  #refresh(upstream: Upstream, q: FactorQuery): void {
    const key = cacheKey(q);
    this.#flights
      .run(key, () => this.#fetchLive(upstream, q, key))
      .catch((error: unknown) => {
        this.#logger.debug({ factorSource: q.source, error: loggedError(error) }, 'background refresh failed');
      });
  }

  /**
   * The shared call (`key` is `q`'s cache key): runs on the circuit's deadline, whoever stops
   * waiting for it, and close() cuts it (the caller signal the circuit combines with its own, so
   * the cut counts against nothing).
   */
  async #fetchLive(upstream: Upstream, q: FactorQuery, key: string): Promise<LiveOutcome> {
    const { breaker, fetcher, source } = upstream;
    let outcome: Outcome<LiveFactor>;
    try {
      outcome = await breaker.tryExecute((signal) => fetcher.fetch(q, signal), { signal: this.#closing.signal });
    } catch (error) {
      if (isFactorUpstreamError(error) && error.credentialsRefused) {
        // The deployment's key, not the caller: on-call must see it, and see which source.
        this.#logger.error(
          { factorSource: source.name, circuit: source.circuitName, status: error.status },
          `credentials refused by ${source.name} (HTTP ${error.status}): check the API key`,
        );
      }
      throw error;
    }
    if (!outcome.ok) {
      const { circuitName, state, retryAfterMs } = outcome.refusal;
      const next = retryAfterMs === undefined ? '' : ` (next trial in ${retryAfterMs} ms)`;
      return { ok: false, why: `circuit ${circuitName} is ${state}${next}` };
    }
    const entry: CachedFactor = { ...outcome.value, provider: source.name, fetchedAt: this.#clock.now() };
    this.#cache.write(key, entry, source.staleMaxAgeMs); // only live answers are ever kept
    return { ok: true, entry };
  }

  #default(q: FactorQuery, why: Reasons): FactorResult | undefined {
    const row = findDefault(this.#defaults, q);
    if (!row) {
      const unit = q.unit === undefined ? '' : ` in ${q.unit}`;
      why.default = `no default for activity "${q.activity}" in region "${q.region}"${unit} in the defaults table`;
      return undefined;
    }
    return {
      value: row.value,
      unit: row.unit,
      factorSource: citationText(row),
      provider: 'defaults',
      region: row.region,
      year: row.year,
      source: 'default',
      quality: 'low',
    };
  }
}
