import type { IncomingMessage, ServerResponse } from 'node:http';
import { json } from './http-simulator.js';

// What the three ERP simulators share: one deterministic data set (each simulator renders it in
// its own wire shape), the per-page faults ("fail on page k", "slow page k"), and credentials.

/** A supplier as the simulators hold it, before any system's wire shape. */
export interface ErpSupplierRow {
  /** 1-based position: the same supplier in every system. */
  index: number;
  name: string;
  active: boolean;
  /** `YYYY-MM-DD` (UTC). */
  createdOn: string;
}

/** A purchase-order line as the simulators hold it. Decimals are strings: the wire decides their type. */
export interface ErpOrderLineRow {
  /** 1-based purchase-order number within the data set. */
  order: number;
  /** 1-based line number within the order. */
  line: number;
  /** The supplier's `index`. */
  supplier: number;
  /** `YYYY-MM-DD` (UTC). */
  orderedOn: string;
  description: string;
  /** Up to 3 decimals, e.g. `"5.000"`. */
  quantity: string;
  unit: string;
  /** Net price per one unit, up to 3 decimals, e.g. `"12.500"`. */
  unitPrice: string;
  currency: string;
}

export interface ErpDataSet {
  suppliers: ErpSupplierRow[];
  lines: ErpOrderLineRow[];
}

export interface ErpDataOptions {
  /** Suppliers (default 2 500). */
  suppliers?: number;
  /** Purchase orders (default 1 000), each with 1 to 6 lines (about 3 500 lines in all). */
  orders?: number;
  /** Seed of the generator: the same seed gives the same data in every simulator (default 1). */
  seed?: number;
}

const WORDS = ['Acme', 'Nordic', 'Atlas', 'Blue', 'Cedar', 'Delta', 'Evergreen', 'Falcon', 'Granite', 'Harbor'];
const TRADES = ['Steel', 'Logistics', 'Chemicals', 'Packaging', 'Energy', 'Textiles', 'Plastics', 'Foods'];
const FORMS = ['GmbH', 'Ltd', 'Inc.', 'S.A.', 'AB', 'B.V.'];
const UNITS = ['PC', 'KG', 'L', 'M'];
const CURRENCIES = ['EUR', 'USD', 'GBP'];
const ITEMS = ['Hot-rolled coil', 'Diesel', 'Cardboard boxes', 'Cotton yarn', 'Polyethylene', 'Freight service'];

/** The data every ERP simulator serves by default: a few thousand suppliers and order lines. */
export function erpDataSet(options: ErpDataOptions = {}): ErpDataSet {
  let state = (options.seed ?? 1) >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const day = (from: number, span: number) =>
    new Date(Date.UTC(2024, 0, 1) + (from + Math.floor(next() * span)) * 86_400_000).toISOString().slice(0, 10);
  const suppliers: ErpSupplierRow[] = [];
  for (let index = 1; index <= (options.suppliers ?? 2_500); index++) {
    suppliers.push({
      index,
      name: `${pick(WORDS)} ${pick(TRADES)} ${index} ${pick(FORMS)}`,
      active: next() > 0.1,
      createdOn: day(-3_000, 3_000),
    });
  }
  const lines: ErpOrderLineRow[] = [];
  for (let order = 1; order <= (options.orders ?? 1_000); order++) {
    const supplier = 1 + Math.floor(next() * suppliers.length);
    const orderedOn = day(0, 366);
    const currency = pick(CURRENCIES);
    const count = 1 + Math.floor(next() * 6);
    for (let line = 1; line <= count; line++) {
      lines.push({
        order,
        line,
        supplier,
        orderedOn,
        description: pick(ITEMS),
        quantity: (Math.floor(next() * 100_000) / 1000 + 1).toFixed(3),
        unit: pick(UNITS),
        unitPrice: (Math.floor(next() * 1_000_000) / 1000).toFixed(3),
        currency,
      });
    }
  }
  return { suppliers, lines };
}

/** Lines ordered on `since` ≤ date < `until` (either may be absent). */
export function linesBetween(lines: readonly ErpOrderLineRow[], since?: string, until?: string): ErpOrderLineRow[] {
  return lines.filter(
    (l) => (since === undefined || l.orderedOn >= since) && (until === undefined || l.orderedOn < until),
  );
}

/**
 * What one page answers instead of its data:
 * - `hang`: never answers; `reset`: drops the connection; `malformed`: a 200 that is not JSON;
 * - `{ status, body?, headers? }`: that answer (503, 429 with Retry-After, 400…);
 * - `{ delayMs }`: the right page, late (real time);
 * - `{ truncate: true }`: a 200 whose JSON is valid but lacks the records array.
 */
export type PageFault =
  | 'hang'
  | 'reset'
  | 'malformed'
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { delayMs: number }
  | { truncate: true };

/** The kinds of list every ERP simulator serves. */
export type ErpListKind = 'suppliers' | 'purchaseOrders';

/** Faults set on single pages; each fires `times` times (default: until cleared). */
export class PageFaults {
  readonly #faults = new Map<string, { fault: PageFault; left: number }>();

  set(kind: ErpListKind, page: number, fault: PageFault, times = Number.POSITIVE_INFINITY): void {
    this.#faults.set(`${kind}:${page}`, { fault, left: times });
  }

  clear(): void {
    this.#faults.clear();
  }

  /** The fault for this page, used up by one. */
  take(kind: ErpListKind, page: number): PageFault | undefined {
    const key = `${kind}:${page}`;
    const entry = this.#faults.get(key);
    if (!entry) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.#faults.delete(key);
    return entry.fault;
  }
}

/**
 * Answers a page: its fault if one is set, else `healthy()`. Returns once the answer is written
 * (or, for `hang`, at once: the socket stays open).
 */
export async function answerPage(
  fault: PageFault | undefined,
  res: ServerResponse,
  healthy: () => void,
  truncated: unknown,
): Promise<void> {
  if (fault === undefined) return healthy();
  if (fault === 'hang') return;
  if (fault === 'reset') return void res.socket?.destroy();
  if (fault === 'malformed') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end('{"d":{"results":[{"Supp');
  }
  if ('truncate' in fault) return json(res, 200, truncated);
  if ('delayMs' in fault) {
    await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (!res.destroyed) healthy();
    return;
  }
  return json(res, fault.status, fault.body ?? { error: `HTTP ${fault.status}` }, fault.headers);
}

/** How a simulator checks credentials: Basic user/password, and/or a bearer token check (an OAuth2 simulator's). */
export interface ErpAuth {
  basic?: { username: string; password: string };
  bearer?: (token: string) => boolean;
}

/** Whether the request carries credentials `auth` accepts (no `auth`: anything goes). */
export function authorized(auth: ErpAuth | undefined, headers: IncomingMessage['headers']): 'ok' | 'missing' | 'bad' {
  if (!auth) return 'ok';
  const header = headers.authorization;
  if (typeof header !== 'string' || header === '') return 'missing';
  const [scheme, value = ''] = header.split(' ', 2) as [string, string?];
  if (auth.basic && scheme.toLowerCase() === 'basic') {
    const expected = Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString('base64');
    return value === expected ? 'ok' : 'bad';
  }
  if (auth.bearer && scheme.toLowerCase() === 'bearer') return auth.bearer(value) ? 'ok' : 'bad';
  return 'bad';
}

/** A 401 as an RFC 6750 resource server sends it for a missing, unknown or expired bearer token. */
export function unauthorized(res: ServerResponse, body: unknown): void {
  json(res, 401, body, {
    'www-authenticate': 'Bearer error="invalid_token", error_description="The access token expired"',
  });
}

/** Quantity × unit price, exactly, as a decimal string with 6 decimals (what the simulators use as a line amount). */
export function lineAmount(line: ErpOrderLineRow): string {
  const scaled = BigInt(line.quantity.replace('.', '')) * BigInt(line.unitPrice.replace('.', ''));
  const text = scaled.toString().padStart(7, '0');
  return `${text.slice(0, -6)}.${text.slice(-6)}`;
}
