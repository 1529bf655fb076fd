import type { BreakerConfig, BreakerRegistry, Logger, ValueSource } from '@gl-vcci/breaker-core';
import type { ClientStatus, KeyValueStore } from '@gl-vcci/breaker-core/client';

/** The ERP systems this client reads; each is one circuit, `erp_connectors.<system>`. */
export type ErpSystem = 'sap' | 'oracle' | 'workday';

/** The lists a system is read for. */
export type ErpListKind = 'suppliers' | 'purchaseOrders';

/** Where a fetch's list came from, in breaker-core's words. */
export type ErpResultSource = Extract<ValueSource, 'live' | 'cache' | 'stale'>;

/**
 * A decimal number as a string, exact: no float was ever involved in it. Canonical form: no
 * exponent, no leading `+`, no trailing zeros after the point, no point for a whole number
 * (`"62.5"`, `"1200"`, `"-0.125"`).
 */
export type Decimal = string;

/** A sum of money: an exact decimal and its ISO 4217 currency code. */
export interface Money {
  value: Decimal;
  currency: string;
}

/**
 * One supplier, the same shape for every system; every field is always present (`null` when the
 * system does not say).
 */
export interface Supplier {
  system: ErpSystem;
  /** The system's key of the supplier, the one purchase-order lines refer to (SAP `Supplier`, Oracle `SupplierId`, Workday `supplierId`). */
  id: string;
  /** The number people use (SAP `Supplier`, Oracle `SupplierNumber`, Workday `supplierId`). */
  number: string;
  name: string;
  /** False when the system blocks purchasing from it or marks it inactive. */
  active: boolean;
  /** `YYYY-MM-DD` (UTC), or null. */
  createdOn: string | null;
}

/** One purchase-order line, the same shape for every system. */
export interface PurchaseOrderLine {
  system: ErpSystem;
  /** The order's number as the system shows it. */
  orderId: string;
  /** The line's number within its order, as a string (SAP `"00010"`-style items are kept as sent). */
  lineId: string;
  /** `Supplier.id` of the same system. */
  supplierId: string;
  /** `YYYY-MM-DD`. */
  orderedOn: string;
  description: string | null;
  quantity: Decimal | null;
  unit: string | null;
  /** The line's net amount: quantity × net price (SAP: per `NetPriceQuantity`), or the system's own line amount. */
  amount: Money;
}

export interface SupplierFilters {
  /** Only suppliers whose name starts with this (case-sensitive, 1–80 characters, no quotes, `%` or `*`). */
  nameStartsWith?: string;
}

export interface PurchaseOrderQuery {
  /** First order date included, `YYYY-MM-DD`. */
  since?: string;
  /** First order date excluded, `YYYY-MM-DD`; after `since`. */
  until?: string;
}

/** A fetched list and where it came from; `ageMs` on `cache` and `stale` (registry clock). */
export interface ErpResult<T> {
  value: T[];
  source: ErpResultSource;
  ageMs?: number;
}

/** One page of `pages()`. */
export interface ErpPage<T> {
  records: T[];
  /** 1-based page number within the walk (counting from the cursor it started at as that page's number). */
  page: number;
  /** Resumes the walk after this page; undefined on the last page. */
  cursor: string | undefined;
}

export interface FetchOptions {
  /** Aborting stops the fetch at once and rejects with the signal's reason (no fallback). */
  signal?: AbortSignal;
}

export interface PagesOptions extends FetchOptions {
  /** Resume from a cursor given by an earlier page, or by an ErpPageError. */
  cursor?: string;
}

/** Credentials of one system. Secrets are never logged nor reachable from a thrown error. */
export type ErpAuth =
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  | {
      /** OAuth2 client credentials (Oracle IDCS, Workday): the token is cached and renewed before it expires. */
      type: 'oauth2';
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      scope?: string;
    };

/** Overrides of a system's circuit settings, over the configuration file's (not `name` or `classify`). */
export type ErpBreakerOptions = Partial<Omit<BreakerConfig, 'name' | 'classify'>>;

/** What every system takes. */
export interface ErpSystemBaseOptions {
  /** `https://my-s4.example.com`, `https://fa-xxxx.oraclecloud.com`, `https://wd2-impl-services1.workday.com`. */
  baseUrl: string;
  auth: ErpAuth;
  /** Records asked per page (SAP default 500, at most 5 000; Oracle default and most 500; Workday REST default and most 100). */
  pageSize?: number;
  /** This system's circuit settings over the configuration file's. */
  breaker?: ErpBreakerOptions;
}

export type SapOptions = ErpSystemBaseOptions & {
  /** On-premise `sap-client` (three digits), sent with every request. */
  sapClient?: string;
};

export type OracleOptions = ErpSystemBaseOptions;

export type WorkdayOptions = ErpSystemBaseOptions & {
  tenant: string;
  /** The RaaS report of purchase-order lines: its owner and name (`/customreport2/{tenant}/{owner}/{name}`). */
  purchaseOrderReport: { owner: string; name: string };
};

export interface ErpSystemsOptions {
  sap?: SapOptions;
  oracle?: OracleOptions;
  workday?: WorkdayOptions;
}

export interface ErpClientOptions {
  /** breaker-core's registry: the `erp_connectors.<system>` circuits, their settings, metrics, logger and clock. */
  registry: BreakerRegistry;
  /** Parent of the client's child logger (default `registry.logger`). */
  logger?: Logger;
  /** The systems this client reads, by name: at least one. */
  systems: ErpSystemsOptions;
  /** Where complete results are kept, e.g. Redis through cache-client (default: an in-process LocalStore sized by `local`). */
  cache?: KeyValueStore<CachedList>;
  /** Bounds of the default in-process store (default 200 lists, 256 MB of JSON); not with `cache`. */
  local?: { maxEntries?: number; maxBytes?: number };
  /** Retries of a failed page (breaker-core's RetryPolicy): attempts in all, and the backoff. */
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** axios' idle (socket inactivity) timeout in ms; the page deadline is the circuit's `call_timeout` (default 60 000). */
  idleTimeoutMs?: number;
  /** Cap on the Retry-After honoured from a 429/503, in ms (default 600 000). */
  maxRetryAfterMs?: number;
}

/** What the client keeps in its cache: a complete list and when it was fetched (registry clock ms). */
export interface CachedList {
  records: Array<Supplier | PurchaseOrderLine>;
  fetchedAt: number;
}

/** One system's resolved settings and its bulkhead's occupation, in `status()`. */
export interface ErpSystemStatus {
  /** Pages running now (bulkhead slots taken) and the most (`connection_pool_size`). */
  inFlight: number;
  maxConcurrent: number;
  /** Pages waiting for a slot, and the most allowed to wait (`max_queue`). */
  queued: number;
  maxQueue: number;
  cacheTtlMs: number;
  staleMaxAgeMs: number;
  fetchDeadlineMs: number;
}

export interface ErpClientStatus extends ClientStatus {
  systems: Partial<Record<ErpSystem, ErpSystemStatus>>;
}

export interface ErpClient {
  /** Every supplier (matching `filters`), complete, from one system: live, else the last complete list. */
  fetchSuppliers(system: ErpSystem, filters?: SupplierFilters, options?: FetchOptions): Promise<ErpResult<Supplier>>;
  /** Every purchase-order line ordered in [since, until), complete: live, else the last complete list. */
  fetchPurchaseOrders(
    system: ErpSystem,
    query?: PurchaseOrderQuery,
    options?: FetchOptions,
  ): Promise<ErpResult<PurchaseOrderLine>>;
  /** The same lists one page at a time, for lists too large to hold; live only, never cached. */
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
  status(): ErpClientStatus;
  /** Stops new fetches, cuts running ones with ErpClosedError and closes the client's sockets. */
  close(): Promise<void>;
}
