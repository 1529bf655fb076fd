import type { Logger } from 'pino';
import { z } from 'zod';
import type { BreakerRegistry } from './registry.js';
import { MAX_TIMER_MS, positiveInt } from './validation.js';

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
