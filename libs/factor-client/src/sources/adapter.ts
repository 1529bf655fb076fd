import { describeValue } from '@gl-vcci/breaker-core/client';
import { z } from 'zod';
import type { FactorQuery, FactorSourceName } from '../types.js';

/** What every source's answer comes down to, whatever its wire shape. */
export interface LiveFactor {
  value: number;
  unit: string;
  factorSource: string;
  region: string;
  year: number;
}

/** One source's wire shape: where to ask, and where the factor row sits in the answer. */
export interface SourceAdapter {
  readonly name: FactorSourceName;
  /** Path (relative to the source's base URL) and query parameters of a lookup. */
  request(query: FactorQuery): { path: string; params: Record<string, string> };
  /** The factor row inside a parsed 200 body, or why the body holds none. */
  row(body: unknown): { row: unknown } | { malformed: string };
}

const rowSchema = z.object({
  value: z.number({ error: 'expected a number' }).finite().nonnegative({ error: 'expected a non-negative number' }),
  unit: z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' }),
  source: z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' }),
  year: z.number({ error: 'expected an integer' }).int({ error: 'expected an integer' }),
  region: z.string({ error: 'expected a string' }),
});

/** A factor row read against the query. */
export type RowReading = { factor: LiveFactor } | { malformed: string } | { mismatch: string };

/**
 * Reads a factor row against the query. A row that is not a factor (no value, a negative one, a
 * missing field) is `malformed`: the source failed. A well-formed factor for another unit,
 * region or year than asked is a `mismatch`: the source has no factor for the question as put.
 */
export function readRow(row: unknown, query: FactorQuery): RowReading {
  const parsed = rowSchema.safeParse(row);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(row)';
    const got = (row as Record<PropertyKey, unknown> | null)?.[issue.path[0] ?? ''];
    return { malformed: `${field}: ${issue.message}, got ${describeValue(issue.path.length === 0 ? row : got)}` };
  }
  const r = parsed.data;
  if (query.unit !== undefined && r.unit !== query.unit) {
    return { mismatch: `unit: expected "${query.unit}", got "${r.unit}"` };
  }
  if (r.region !== query.region) return { mismatch: `region: expected "${query.region}", got "${r.region}"` };
  if (query.year !== undefined && r.year !== query.year) {
    return { mismatch: `year: expected ${query.year}, got ${r.year}` };
  }
  return { factor: { value: r.value, unit: r.unit, factorSource: r.source, region: r.region, year: r.year } };
}

export function yearParam(query: FactorQuery): Record<string, string> {
  return query.year === undefined ? {} : { year: String(query.year) };
}
