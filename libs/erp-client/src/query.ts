import type { Issue } from '@gl-vcci/breaker-core';
import { describeValue, signalSchema } from '@gl-vcci/breaker-core/client';
import { ErpArgumentError } from './errors.js';
import type { ListQuery, PageRequest } from './systems/adapter.js';
import type { ErpListKind, ErpSystem } from './types.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** Characters no system's filter syntax can take safely: quotes, wildcards, separators, control characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const UNSAFE = /['"%*;\\\u0000-\u001f\u007f]/;

/** A call's arguments, checked before anything is sent: the normalized query, or ErpArgumentError naming every bad field. */
export function checkCall(
  method: string,
  configured: readonly ErpSystem[],
  system: unknown,
  kind: ErpListKind,
  query: unknown,
  options: unknown,
  allowCursor: boolean,
): { system: ErpSystem; query: ListQuery; signal: AbortSignal | undefined; cursor: string | undefined } {
  const issues: Issue[] = [];
  if (!configured.includes(system as ErpSystem)) {
    issues.push({
      path: 'system',
      message: `expected one of the configured systems (${configured.join(', ')}), got ${describeValue(system)}`,
    });
  }
  const q = kind === 'suppliers' ? supplierQuery(query, issues) : orderQuery(query, issues);
  const o = options === undefined ? {} : options;
  let signal: AbortSignal | undefined;
  let cursor: string | undefined;
  if (typeof o !== 'object' || o === null)
    issues.push({ path: 'options', message: `expected an object, got ${describeValue(o)}` });
  else {
    for (const [key, value] of Object.entries(o)) {
      if (key === 'signal' && value !== undefined) {
        if (signalSchema.safeParse(value).success) signal = value as AbortSignal;
        else issues.push({ path: 'options.signal', message: `expected an AbortSignal, got ${describeValue(value)}` });
      } else if (key === 'cursor' && allowCursor && value !== undefined) {
        if (typeof value === 'string' && value !== '') cursor = value;
        else issues.push({ path: 'options.cursor', message: `expected a cursor string, got ${describeValue(value)}` });
      } else if (key !== 'signal' && !(key === 'cursor' && allowCursor)) {
        issues.push({ path: `options.${key}`, message: 'unknown option' });
      }
    }
  }
  if (issues.length > 0) {
    throw new ErpArgumentError(`${method}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return { system: system as ErpSystem, query: q, signal, cursor };
}

function supplierQuery(query: unknown, issues: Issue[]): ListQuery {
  if (query === undefined) return {};
  if (typeof query !== 'object' || query === null) {
    issues.push({ path: 'filters', message: `expected an object ({ nameStartsWith? }), got ${describeValue(query)}` });
    return {};
  }
  const out: ListQuery = {};
  for (const [key, value] of Object.entries(query)) {
    if (key !== 'nameStartsWith') {
      issues.push({ path: `filters.${key}`, message: 'unknown filter (known: nameStartsWith)' });
    } else if (value !== undefined) {
      if (typeof value !== 'string' || value.length < 1 || value.length > 80 || UNSAFE.test(value)) {
        issues.push({
          path: 'filters.nameStartsWith',
          message: `expected 1 to 80 characters without quotes, %, *, ; or \\, got ${describeValue(value)}`,
        });
      } else out.nameStartsWith = value;
    }
  }
  return out;
}

function orderQuery(query: unknown, issues: Issue[]): ListQuery {
  if (query === undefined) return {};
  if (typeof query !== 'object' || query === null) {
    issues.push({ path: 'query', message: `expected an object ({ since?, until? }), got ${describeValue(query)}` });
    return {};
  }
  const out: ListQuery = {};
  for (const [key, value] of Object.entries(query)) {
    if (key !== 'since' && key !== 'until') {
      issues.push({ path: `query.${key}`, message: 'unknown field (known: since, until)' });
    } else if (value !== undefined) {
      if (
        typeof value !== 'string' ||
        !DAY.test(value) ||
        new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value
      ) {
        issues.push({ path: `query.${key}`, message: `expected a date YYYY-MM-DD, got ${describeValue(value)}` });
      } else out[key] = value;
    }
  }
  if (out.since !== undefined && out.until !== undefined && out.until <= out.since) {
    issues.push({ path: 'query.until', message: `expected a date after since (${out.since}), got "${out.until}"` });
  }
  return out;
}

/** One cache entry per system, list and normalized query. */
export function cacheKey(system: ErpSystem, kind: ErpListKind, q: ListQuery): string {
  return JSON.stringify(['erp', system, kind, q.nameStartsWith ?? null, q.since ?? null, q.until ?? null]);
}

interface CursorBody {
  v: 1;
  key: string;
  page: number;
  path: string;
  params: Record<string, string>;
}

/** An opaque cursor: the page request to resume at, tied to its system, list and query. */
export function encodeCursor(key: string, page: number, request: PageRequest): string {
  const body: CursorBody = { v: 1, key, page, path: request.path, params: request.params };
  return `erp1.${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
}

/**
 * The page a cursor resumes at. It must be one this client made for the same system, list and
 * query, and point at the list's own path (`first.path`): a forged cursor cannot send our
 * credentials elsewhere.
 */
export function decodeCursor(cursor: string, key: string, first: PageRequest): { page: number; request: PageRequest } {
  const bad = (why: string) =>
    new ErpArgumentError(`pages: options.cursor: ${why}`, [{ path: 'options.cursor', message: why }]);
  let body: CursorBody;
  try {
    if (!cursor.startsWith('erp1.')) throw new Error();
    body = JSON.parse(Buffer.from(cursor.slice(5), 'base64url').toString('utf8')) as CursorBody;
  } catch {
    throw bad('expected a cursor given by pages() or ErpPageError, got a string that is not one');
  }
  const params = body?.params;
  if (
    body?.v !== 1 ||
    typeof body.page !== 'number' ||
    !Number.isSafeInteger(body.page) ||
    body.page < 1 ||
    typeof params !== 'object' ||
    params === null ||
    Object.values(params).some((v) => typeof v !== 'string')
  ) {
    throw bad('expected a cursor given by pages() or ErpPageError, got a damaged one');
  }
  if (body.key !== key || body.path !== first.path) {
    throw bad('expected a cursor of the same system, list and query');
  }
  return { page: body.page, request: { path: body.path, params } };
}
