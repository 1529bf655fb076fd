import { z } from 'zod';
import type { Clock } from './clock.js';
import { ConfigError, isConfigError } from './errors.js';

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
export function toIssues(
  error: z.ZodError,
  input: unknown,
  prefix: ReadonlyArray<PropertyKey> = [],
  /** The config file's values are shown as written; an option's misplaced string is not. */
  { showStrings = false }: { showStrings?: boolean } = {},
): Issue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    // A message that already says what it got (or hides it, for secrets) is not given a second "got".
    const says = issue.code === 'unrecognized_keys' || /, got /.test(issue.message);
    const value = valueAt(input, issue.path);
    // A string where another type belongs is not echoed: it is most often a key or a URL put in
    // the wrong place (`createCacheClient('redis://:pw@host')`). A wrong string value is shown.
    const hidden = !showStrings && issue.code === 'invalid_type' && typeof value === 'string';
    const shown = hidden ? 'a string (not shown)' : describeValue(value);
    const got = says ? '' : `, got ${shown}`;
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

/**
 * `fn()`, or undefined with the issues of the ConfigError it threw added to `issues` (paths
 * prefixed), so a client reports the registry's and breaker-core's problems with its own in one
 * error. Any other error is thrown on.
 */
export function collectIssues<T>(issues: Issue[], fn: () => T, prefix = ''): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!isConfigError(error)) throw error;
    const found = error.issues.length > 0 ? error.issues : [{ path: '', message: error.message }];
    issues.push(...found.map((i) => ({ path: `${prefix}${i.path}`, message: i.message })));
    return undefined;
  }
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value: unknown = root;
  for (const key of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  return value;
}

/**
 * A value as an error message shows it. Objects and arrays are described by shape, never dumped:
 * a misplaced options object can hold API keys, headers or a connection string.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty object';
    const shown = keys.slice(0, 5).map((k) => JSON.stringify(k));
    return `an object with keys ${shown.join(', ')}${keys.length > 5 ? ', …' : ''}`;
  }
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
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
