import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { runWithDeadline } from '../policies/timeout.js';
import { loggedError } from './log.js';

/**
 * The cache a client accepts (factor, llm, erp): any async key-value store with per-entry TTLs,
 * such as cache-client's Redis-backed store or the in-process `LocalStore`. `get` resolves
 * undefined on a miss. A client treats a store that throws or hangs as a miss and never waits
 * long for it: a cache is never worth an outage of its own.
 */
export interface KeyValueStore<V> {
  get(key: string, options?: { signal?: AbortSignal }): Promise<V | undefined>;
  set(key: string, value: V, ttlMs: number): Promise<void>;
  delete?(key: string): Promise<void>;
}

export interface LocalStoreOptions<V> {
  /** Most entries kept; the least recently used goes first. */
  maxEntries: number;
  /** Bound on the sum of `sizeOf` over the entries (default: no bound on size). */
  maxBytes?: number;
  /** The size of one entry, for `maxBytes` (default: its JSON length). */
  sizeOf?: (value: V) => number;
  /** Longest an entry lives, whatever TTL it was written with (default: no cap). */
  maxTtlMs?: number;
  /** The registry's clock, so TTLs move with the breakers' time in tests. */
  clock: Clock;
}

/**
 * The in-memory tier every client uses by default: bounded by entries and, when asked, by size,
 * each entry living its TTL on the registry's clock (read at access time: no timers to clean up).
 * A value larger than `maxBytes` is not kept, and an older copy under its key is dropped.
 */
export class LocalStore<V extends {}> implements KeyValueStore<V> {
  readonly #lru: LRUCache<string, V>;
  readonly #maxBytes: number | undefined;
  readonly #sizeOf: (value: V) => number;
  readonly #maxTtlMs: number;

  constructor(options: LocalStoreOptions<V>) {
    const { clock, maxBytes } = options;
    this.#maxBytes = maxBytes;
    this.#sizeOf = options.sizeOf ?? ((value) => JSON.stringify(value)?.length ?? 0);
    this.#maxTtlMs = options.maxTtlMs ?? Number.POSITIVE_INFINITY;
    this.#lru = new LRUCache<string, V>({
      max: options.maxEntries,
      ...(maxBytes === undefined ? {} : { maxSize: maxBytes, sizeCalculation: (v: V) => Math.max(1, this.#sizeOf(v)) }),
      ttlAutopurge: false,
      ttlResolution: 0,
      // lru-cache takes a start time of 0 for "no TTL": keep a clock that reads 0 clear of it.
      perf: { now: () => clock.now() + 1 },
    });
  }

  /** Synchronous read, for callers that need no promise (cache-client's local tier). */
  peek(key: string): V | undefined {
    return this.#lru.get(key);
  }

  /** Synchronous write; false when the value was not kept (larger than `maxBytes`, or a TTL of 0). */
  put(key: string, value: V, ttlMs: number): boolean {
    if (!(ttlMs > 0) || (this.#maxBytes !== undefined && this.#sizeOf(value) > this.#maxBytes)) {
      this.#lru.delete(key);
      return false;
    }
    this.#lru.set(key, value, { ttl: Math.min(ttlMs, this.#maxTtlMs) });
    return true;
  }

  remove(key: string): void {
    this.#lru.delete(key);
  }

  async get(key: string): Promise<V | undefined> {
    return this.peek(key);
  }

  async set(key: string, value: V, ttlMs: number): Promise<void> {
    this.put(key, value, ttlMs);
  }

  async delete(key: string): Promise<void> {
    this.remove(key);
  }

  clear(): void {
    this.#lru.clear();
  }

  get size(): number {
    return this.#lru.size;
  }

  /** The sum of the entries' sizes (0 without `maxBytes`). */
  get bytes(): number {
    return this.#lru.calculatedSize;
  }
}

/**
 * `store.get(key)` within `timeoutMs` on the registry's clock, and within the caller's `signal`
 * (given to the store too): a cache is never worth waiting for. Rejects with the store's own error
 * (also a synchronous throw), a TimeoutError, or the caller's abort reason; the client treats all
 * but the last as a miss. No signal is made for the deadline (~2.3 µs per read, on every lookup a
 * client serves from its cache): a store that outlives it is left to finish, unobserved.
 */
export function getWithin<V>(
  store: KeyValueStore<V>,
  key: string,
  options: { clock: Clock; timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<V | undefined> {
  const { clock, timeoutMs, signal } = options;
  const passed = signal ? { signal } : undefined;
  return runWithDeadline(() => store.get(key, passed), { timeoutMs, signal, clock });
}

export interface ClientCacheOptions {
  clock: Clock;
  logger: Logger;
  /** How long a read may take before it is a miss: a cache is never worth an outage of its own. */
  readTimeoutMs: number;
  /** Names the cache in its log lines (`factor cache`). */
  name: string;
}

/**
 * A client's cache as every client uses its store: a read is bounded by `readTimeoutMs` (on the
 * registry's clock) and the caller's signal, and a store that throws or hangs is a miss; a write
 * is started and never awaited, so a slow store never delays an answer. Failures are logged at
 * warn, never thrown; only the caller's abort rejects a read.
 */
export class ClientCache<V> {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #readTimeoutMs: number;
  readonly #name: string;

  constructor(
    readonly store: KeyValueStore<V>,
    options: ClientCacheOptions,
  ) {
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#readTimeoutMs = options.readTimeoutMs;
    this.#name = options.name;
  }

  async read(key: string, signal?: AbortSignal): Promise<V | undefined> {
    try {
      return await getWithin(this.store, key, { clock: this.#clock, timeoutMs: this.#readTimeoutMs, signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      this.#logger.warn({ error: loggedError(error) }, `${this.#name} read failed: treated as a miss`);
      return undefined;
    }
  }

  write(key: string, value: V, ttlMs: number): void {
    // Inside a promise, so a store that throws synchronously is logged like one that rejects.
    new Promise<void>((resolve) => resolve(this.store.set(key, value, ttlMs))).catch((error: unknown) => {
      this.#logger.warn({ error: loggedError(error) }, `${this.#name} write failed`);
    });
  }
}
