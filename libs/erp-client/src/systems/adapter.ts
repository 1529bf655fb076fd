import type { ErpListKind, ErpSystem, PurchaseOrderLine, Supplier } from '../types.js';

/** One request of a page: a path under the system's base URL and its query parameters. */
export interface PageRequest {
  path: string;
  params: Record<string, string>;
}

/** The normalized query of a list: supplier filters or an order-date range, checked already. */
export interface ListQuery {
  nameStartsWith?: string;
  since?: string;
  until?: string;
}

export type ErpRecord = Supplier | PurchaseOrderLine;

/** A page read: its records, and the request of the next page (undefined: this was the last). */
export interface PageReading {
  records: ErpRecord[];
  next: PageRequest | undefined;
}

/** One system's wire shape: where each list starts and how a page is read. */
export interface SystemAdapter {
  readonly name: ErpSystem;
  /** Most records a page may ask for, and the default. */
  readonly maxPageSize: number;
  readonly defaultPageSize: number;
  /** The first page of a list. */
  first(kind: ErpListKind, query: ListQuery, pageSize: number): PageRequest;
  /**
   * A 200's parsed JSON body: its records, normalized, and the next page's request. Throws
   * `Malformed` when the body is not a page of this system.
   */
  read(kind: ErpListKind, body: unknown, request: PageRequest, query: ListQuery): PageReading;
}

/** Why a 200 body is not a page; the fetcher turns it into ErpMalformedError. */
export class Malformed extends Error {}

type Obj = Record<string, unknown>;

export function object(value: unknown, what: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Malformed(`${what}: expected an object`);
  return value as Obj;
}

export function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Malformed(`${what}: expected an array`);
  return value;
}

/** A required non-empty string (a number is taken as its text, for numeric keys). */
export function text(o: Obj, key: string, where: string): string {
  const value = o[key];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new Malformed(`${where}.${key}: expected a non-empty string`);
}

export function optionalText(o: Obj, key: string): string | null {
  const value = o[key];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** `YYYY-MM-DD` from an ISO date or date-time (with an offset: the UTC day), a Workday date with offset, or SAP's `/Date(ms)/`. */
export function day(value: unknown, where: string): string {
  if (typeof value === 'string') {
    const sap = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(value);
    if (sap) return new Date(Number(sap[1])).toISOString().slice(0, 10);
    if (/^\d{4}-\d{2}-\d{2}(?:[+-]\d{2}:\d{2}|Z)?$/.test(value)) return value.slice(0, 10);
    const ms = Date.parse(value);
    if (/^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(ms)) return new Date(ms).toISOString().slice(0, 10);
  }
  throw new Malformed(
    `${where}: expected a date, got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value}`,
  );
}

export function optionalDay(value: unknown, where: string): string | null {
  return value === null || value === undefined || value === '' ? null : day(value, where);
}

/** A non-negative integer query parameter of the request (offset, $skip, $top). */
export function intParam(request: PageRequest, name: string): number {
  const n = Number(request.params[name] ?? '0');
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** `YYYY-MM-DD` one day earlier (Workday's End_Date is inclusive; our `until` is not). */
export function dayBefore(dayText: string): string {
  return new Date(Date.parse(`${dayText}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}
