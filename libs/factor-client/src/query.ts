import { anObject, type Issue, nonEmptyString, signalSchema, toIssues } from '@gl-vcci/breaker-core/client';
import { z } from 'zod';
import { FactorArgumentError } from './errors.js';
import type { FactorQuery, FactorSourceName } from './types.js';

/** ISO 3166-1 alpha-2, optionally with an ISO 3166-2 subdivision (`US-CA`), or ecoinvent's `GLO` and `RoW`. */
const REGION = /^(?:[A-Z]{2}(?:-[A-Z0-9]{1,3})?|GLO|RoW)$/;
const YEAR = 'expected a year between 1990 and 2100';
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The schema of `getFactor`'s query for the sources this client was given. */
export function querySchema(sources: readonly FactorSourceName[]) {
  return z.strictObject(
    {
      source: z.enum(sources as [FactorSourceName, ...FactorSourceName[]], {
        error: `expected one of the configured sources (${sources.join(', ')})`,
      }),
      activity: nonEmptyString('a non-empty activity id')
        .refine((a: string) => a.trim() === a, { error: 'expected no leading or trailing spaces' })
        // A path segment of its own at two sources: "." or ".." would change the request's path.
        .refine((a: string) => a !== '.' && a !== '..' && !CONTROL.test(a), {
          error: 'expected an activity id (not "." or "..", no control characters)',
        }),
      region: z
        .string({ error: 'expected a region code' })
        .regex(REGION, { error: 'expected an ISO 3166 region code ("US", "GB", "US-CA") or "GLO" / "RoW"' }),
      year: z
        .number({ error: YEAR })
        .int({ error: YEAR })
        .min(1990, { error: YEAR })
        .max(2100, { error: YEAR })
        .optional(),
      unit: nonEmptyString().optional(),
    },
    anObject('a query { source, activity, region, year?, unit? }'),
  );
}

export type QuerySchema = ReturnType<typeof querySchema>;

const callOptionsSchema = z
  .strictObject({ signal: signalSchema.optional() }, anObject('an object ({ signal? })'))
  .optional();

/**
 * The query and call options, checked before anything is sent or read: a FactorArgumentError
 * naming every bad field of both otherwise.
 */
export function checkQuery(schema: QuerySchema, query: unknown, options: unknown): FactorQuery {
  const parsed = schema.safeParse(query);
  const checked = callOptionsSchema.safeParse(options);
  const issues: Issue[] = [
    ...(parsed.success ? [] : toIssues(parsed.error, query)),
    ...(checked.success ? [] : toIssues(checked.error, options, ['options'])),
  ];
  if (issues.length > 0 || !parsed.success) {
    throw new FactorArgumentError(
      `getFactor: ${issues.map((i) => `${i.path || '(query)'}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return parsed.data as FactorQuery;
}
