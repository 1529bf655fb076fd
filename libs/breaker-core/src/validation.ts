import { z } from 'zod';
import type { Clock } from './clock.js';
import { ConfigError } from './errors.js';

// Zod schemas whose every failure reads "expected <what>", so messages name the expectation in
// the same words whether they come from TypeScript options or from the YAML file.
const expected = (what: string) => ({ error: `expected ${what}` });

export const positiveInt = (what = 'a positive integer') =>
  z.number(expected(what)).int(expected(what)).positive(expected(what));
export const nonNegativeInt = (what = 'a non-negative integer') =>
  z.number(expected(what)).int(expected(what)).nonnegative(expected(what));
export const positiveNumber = (what = 'a positive number') =>
  z.number(expected(what)).positive(expected(what)).finite(expected(what));
export const nonNegativeNumber = (what = 'a non-negative number') =>
  z.number(expected(what)).nonnegative(expected(what)).finite(expected(what));
export const percentage = () =>
  z
    .number(expected('a percentage in (0, 100]'))
    .gt(0, expected('a percentage in (0, 100]'))
    .lte(100, expected('a percentage in (0, 100]'));
export const boolean = () => z.boolean(expected('true or false'));
export const nonEmptyString = (what = 'a non-empty string') => z.string(expected(what)).min(1, expected(what));

export interface Issue {
  path: string;
  message: string;
}

/** Turns zod issues into `path: expected X, got Y` lines, reading the offending value from `input`. */
export function toIssues(error: z.ZodError, input: unknown, prefix: ReadonlyArray<PropertyKey> = []): Issue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    // A message that already says what it got (or hides it, for secrets) is not given a second "got".
    const says = issue.code === 'unrecognized_keys' || /, got /.test(issue.message);
    const got = says ? '' : `, got ${describeValue(valueAt(input, issue.path))}`;
    return { path: path.map(String).join('.'), message: `${issue.message}${got}` };
  });
}

/** Issues as one line: `path: message; path: message` (`(root)` for the value itself). */
export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
}

/**
 * Parses `input` with `schema` or throws one error listing every bad field: a ConfigError (for
 * options), or what `toError` makes of the message and issues (a client's ArgumentError).
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  context: string,
  toError: (message: string, issues: Issue[]) => Error = (message, issues) => new ConfigError(message, issues),
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = toIssues(parsed.error, input);
  throw toError(`${context}: ${formatIssues(issues)}`, issues);
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value: unknown = root;
  for (const key of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  return value;
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Node's setTimeout fires at once (with a warning) for longer delays. */
export const MAX_TIMER_MS = 2_147_483_647;

export const clockSchema = z.custom<Clock>(
  (c) =>
    typeof (c as Clock | null)?.now === 'function' &&
    typeof (c as Clock).setTimeout === 'function' &&
    typeof (c as Clock).clearTimeout === 'function',
  { error: 'expected a Clock (now, setTimeout, clearTimeout)' },
);

export const fnSchema = <F>() => z.custom<F>((f) => typeof f === 'function', { error: 'expected a function' });
