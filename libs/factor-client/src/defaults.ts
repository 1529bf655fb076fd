import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nonEmptyString, parseOrThrow, positiveInt, positiveNumber } from '@gl-vcci/breaker-core/client';
import { parse } from 'yaml';
import { z } from 'zod';
import type { FactorDefault, FactorQuery } from './types.js';

const citationSchema = z.strictObject(
  {
    publication: nonEmptyString(),
    year: positiveInt(),
    table: nonEmptyString(),
    row: nonEmptyString().optional(),
  },
  { error: 'expected { publication, year, table, row? }: every default cites its source' },
);

/** One row of the defaults table; also checks rows given to createFactorClient directly. */
export const defaultRowSchema = z.strictObject(
  {
    activity: nonEmptyString(),
    region: nonEmptyString(),
    value: positiveNumber(),
    unit: nonEmptyString(),
    year: positiveInt(),
    citation: citationSchema,
    note: z.string().optional(),
  },
  { error: 'expected a default factor { activity, region, value, unit, year, citation }' },
);

const fileSchema = z
  .looseObject({ defaults: z.array(defaultRowSchema, { error: 'expected a list of default factors' }) })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    for (const [i, row] of file.defaults.entries()) {
      const key = `${row.activity} / ${row.region} / ${row.unit}`;
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['defaults', i],
          message: `expected one row per activity, region and unit (${key} repeats)`,
        });
      }
      seen.add(key);
    }
  });

/** The cited table shipped in this package (`data/factor-defaults.yaml`), found relative to this module. */
const SHIPPED_DEFAULTS = fileURLToPath(new URL('../data/factor-defaults.yaml', import.meta.url));

/**
 * Reads the conservative defaults table and checks every row: each must cite its publication
 * (name, year, table). With no argument, the table shipped in this package (EPA GHG Emission
 * Factors Hub 2024); otherwise a YAML path, or YAML text when the string holds a newline. A bad
 * file throws breaker-core's ConfigError naming the row and field.
 */
export function loadFactorDefaults(pathOrText: string = SHIPPED_DEFAULTS): FactorDefault[] {
  const text = pathOrText.includes('\n') ? pathOrText : readFileSync(pathOrText, 'utf8');
  const context = pathOrText.includes('\n') ? '<text>' : pathOrText;
  return parseOrThrow(fileSchema, parse(text) as unknown, context).defaults;
}

/**
 * The default for a query: same activity and region, and the asked unit. Without a unit the
 * row is used only when it is the only one for that activity/region: a factor per mmBtu and one
 * per scf are not interchangeable, and picking one would be a guess.
 */
export function findDefault(defaults: readonly FactorDefault[], query: FactorQuery): FactorDefault | undefined {
  const rows = defaults.filter((d) => d.activity === query.activity && d.region === query.region);
  if (query.unit !== undefined) return rows.find((d) => d.unit === query.unit);
  return rows.length === 1 ? rows[0] : undefined;
}

/** `EPA GHG Emission Factors Hub 2024, Table 1 Stationary Combustion, Natural Gas` */
export function citationText(row: FactorDefault): string {
  const { publication, year, table, row: line } = row.citation;
  return `${publication} ${year}, ${table}${line ? `, ${line}` : ''}`;
}
