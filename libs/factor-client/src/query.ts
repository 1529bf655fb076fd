import { describeValue, formatIssues, nonEmptyString, toIssues } from '@gl-vcci/breaker-core';
import { z } from 'zod';
import { FactorQueryError } from './errors.js';
import type { FactorQuery, FactorSourceName, GetFactorOptions } from './types.js';

/** ISO 3166-1 alpha-2, optionally with an ISO 3166-2 subdivision (`US-CA`), or ecoinvent's `GLO` and `RoW`. */
const REGION = /^(?:[A-Z]{2}(?:-[A-Z0-9]{1,3})?|GLO|RoW)$/;

/** The schema of `getFactor`'s query for the sources this client was given. */
export function querySchema(sources: readonly FactorSourceName[]) {
  const expectedSource = `expected one of the configured sources (${sources.join(', ')})`;
  return z.strictObject(
    {
      source: z.enum(sources as [FactorSourceName, ...FactorSourceName[]], { error: expectedSource }),
      activity: nonEmptyString('a non-empty activity id').refine((a) => a.trim() === a, {
        error: 'expected no leading or trailing spaces',
      }),
      region: z
        .string({ error: 'expected a region code' })
        .regex(REGION, { error: 'expected an ISO 3166 region code ("US", "GB", "US-CA") or "GLO" / "RoW"' }),
      year: z
        .number({ error: 'expected a year between 1990 and 2100' })
        .int({ error: 'expected a year between 1990 and 2100' })
        .min(1990, { error: 'expected a year between 1990 and 2100' })
        .max(2100, { error: 'expected a year between 1990 and 2100' })
        .optional(),
      unit: nonEmptyString().optional(),
    },
    { error: 'expected a query { source, activity, region, year?, unit? }' },
  );
}

export type QuerySchema = ReturnType<typeof querySchema>;

/** The query, checked before anything is sent or read; FactorQueryError naming every bad field otherwise. */
export function checkQuery(schema: QuerySchema, query: unknown, options: unknown): FactorQuery {
  const signal = (options as GetFactorOptions | undefined)?.signal;
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new FactorQueryError(`getFactor: options: expected an object, got ${describeValue(options)}`, [
      { path: 'options', message: 'expected an object' },
    ]);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new FactorQueryError(`getFactor: options.signal: expected an AbortSignal, got ${describeValue(signal)}`, [
      { path: 'options.signal', message: 'expected an AbortSignal' },
    ]);
  }
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issues = toIssues(parsed.error, query);
  throw new FactorQueryError(`getFactor: ${formatIssues(issues)}`, issues);
}
