import type { Logger } from 'pino';
import { z } from 'zod';
import type { BreakerRegistry } from '../registry.js';
import { MAX_TIMER_MS, positiveInt } from '../validation.js';

// The options every client takes, validated the same way everywhere.

/** An object option whose own message shows only for a non-object: unknown keys keep zod's "Unrecognized key". */
export const anObject = (what: string) => ({
  error: (issue: { code: string }) => (issue.code === 'invalid_type' ? `expected ${what}` : undefined),
});

/** Milliseconds that a timer can wait: a positive integer up to Node's timer limit. */
export const durationMs = (what?: string) =>
  positiveInt(what).max(MAX_TIMER_MS, { error: `expected at most ${MAX_TIMER_MS} ms` });

const clientOwned = () => z.undefined({ error: 'expected nothing (the client owns it)' }).optional();

export const registrySchema = z.custom<BreakerRegistry>(
  (r) =>
    typeof (r as BreakerRegistry | null)?.breaker === 'function' &&
    typeof (r as BreakerRegistry).settings === 'function',
  { error: 'expected a BreakerRegistry' },
);

export const loggerSchema = z.custom<Logger>(
  (l) => typeof (l as Logger | null)?.child === 'function' && typeof (l as Logger).warn === 'function',
  { error: 'expected a pino logger' },
);

/**
 * A client's `breaker` option: overrides for its circuit. The name and the classifier belong to
 * the client; every other setting is checked by breaker-core when the breaker is built.
 */
export const breakerOverridesSchema = z.looseObject(
  { name: clientOwned(), classify: clientOwned() },
  anObject('an object of breaker settings'),
);

/** The options every client takes: spread into its own schema (`z.strictObject({ ...baseOptions, … })`). */
export const baseOptions = {
  /** breaker-core's registry: circuits, settings, metrics, logger and clock. */
  registry: registrySchema,
  /** Parent of the client's child logger (default `registry.logger`). */
  logger: loggerSchema.optional(),
} as const;

/** A call's `signal` option. */
export const signalSchema = z.instanceof(AbortSignal, { error: 'expected an AbortSignal' });

/** The `local` option: bounds of a client's in-memory tier. */
export const localSchema = z.strictObject(
  { maxEntries: positiveInt().optional(), maxBytes: positiveInt().optional() },
  anObject('an object of local bounds ({ maxEntries?, maxBytes? })'),
);

/** The `cache` option: a KeyValueStore (get, set). */
export const storeSchema = <S>() =>
  z.custom<S>(
    (c) =>
      typeof (c as { get?: unknown } | null)?.get === 'function' && typeof (c as { set?: unknown }).set === 'function',
    { error: 'expected a store with get(key) and set(key, value, ttlMs)' },
  );

/**
 * A URL option (`http:`/`https:` by default). A bad value is described, never echoed: URLs carry
 * credentials (`https://user:pass@…`, `?api_key=…`).
 */
export const urlSchema = (protocols: readonly string[] = ['http:', 'https:']) => {
  const what = `a ${protocols.map((p) => `${p}//`).join(' or ')} URL`;
  return z.string({ error: `expected ${what}, got <hidden>` }).superRefine((value, ctx) => {
    let protocol: string;
    try {
      protocol = new URL(value).protocol;
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected ${what}, got a string that is not a URL (not shown)` });
      return;
    }
    if (!protocols.includes(protocol)) {
      ctx.addIssue({ code: 'custom', message: `expected ${what}, got a ${protocol}// URL (not shown)` });
    }
  });
};

/** An API key or password: a non-empty string whose value never appears in an error. */
export const secretSchema = (what = 'a non-empty string') =>
  z.string({ error: `expected ${what}, got <hidden>` }).min(1, { error: `expected ${what}, got ""` });

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Headers that may carry API keys: checked, never echoed. A line break or other control character
 * is refused: HTTP clients strip or reject it silently, so a pasted key with a newline would send
 * another key (or no header) and fail as a 401 far from its cause.
 */
export const headersSchema = z.record(
  z.string(),
  secretSchema('a string header value').refine((v) => !CONTROL.test(v), {
    error: 'expected a header value without line breaks or control characters, got <hidden>',
  }),
  { error: 'expected an object of headers, got <hidden>' },
);
