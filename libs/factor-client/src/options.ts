import {
  anObject,
  type BreakerConfig,
  type BreakerRegistry,
  breakerOverridesSchema,
  durationMs,
  loggerSchema,
  nonNegativeInt,
  parseOrThrow,
  positiveInt,
  registrySchema,
} from '@gl-vcci/breaker-core';
import { z } from 'zod';
import { classifyFactorError } from './classify.js';
import { defaultRowSchema } from './defaults.js';
import type {
  FactorCache,
  FactorClientOptions,
  FactorDefault,
  FactorLogger,
  FactorSourceName,
  FactorSourceOptions,
} from './types.js';

const CONTEXT = 'createFactorClient';

export const SOURCE_NAMES: readonly FactorSourceName[] = ['ecoinvent', 'desnz', 'epa'];

export const DEFAULTS = {
  /** Used when the config file sets no `call_timeout` for the source. */
  callTimeoutMs: 10_000,
  /** Factors change yearly: a day-old answer is still right (config `cache_ttl`). */
  cacheTtlMs: 86_400_000,
  /** A week: beyond it an outage is no longer bridged silently (config `stale_max_age`). */
  staleMaxAgeMs: 604_800_000,
  cacheEntries: 10_000,
  idleTimeoutMs: 5_000,
  maxRetryAfterMs: 600_000,
} as const;

const sourceName = z.enum(['ecoinvent', 'desnz', 'epa'], { error: 'expected one of ecoinvent, desnz, epa' });

const sourceSchema = z.strictObject(
  {
    baseUrl: z
      .string({ error: 'expected an http:// or https:// URL' })
      .refine(isHttpUrl, { error: 'expected an http:// or https:// URL' }),
    headers: z
      .record(z.string(), z.string({ error: 'expected a string' }), { error: 'expected an object of headers' })
      .optional(),
    failover: sourceName.optional(),
    cacheTtlMs: nonNegativeInt('a non-negative integer (ms)').optional(),
    staleMaxAgeMs: durationMs('a positive integer (ms)').optional(),
  },
  anObject('an object of source settings ({ baseUrl, … })'),
);

const cacheSchema = z.custom<FactorCache>(
  (c) => typeof (c as FactorCache | null)?.get === 'function' && typeof (c as FactorCache | null)?.set === 'function',
  { error: 'expected a FactorCache (get, set)' },
);

const optionsSchema = z
  .strictObject(
    {
      sources: z
        .strictObject(
          { ecoinvent: sourceSchema.optional(), desnz: sourceSchema.optional(), epa: sourceSchema.optional() },
          anObject('an object of sources by name (ecoinvent, desnz, epa)'),
        )
        .refine((s) => Object.values(s).some((v) => v !== undefined), { error: 'expected at least one source' }),
      registry: registrySchema,
      cache: cacheSchema.optional(),
      cacheEntries: positiveInt().optional(),
      defaults: z.array(defaultRowSchema, { error: 'expected an array of default factors' }).optional(),
      idleTimeoutMs: durationMs().optional(),
      maxRetryAfterMs: durationMs().optional(),
      breaker: breakerOverridesSchema.optional(),
      logger: loggerSchema.optional(),
    },
    anObject('an object of options'),
  )
  .superRefine((o, ctx) => {
    if (o.cache !== undefined && o.cacheEntries !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['cacheEntries'],
        message: 'expected nothing when `cache` is given (it sizes the default in-process cache)',
      });
    }
  });

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** One source with every default applied and its config block read. */
export interface ResolvedSource {
  name: FactorSourceName;
  circuitName: string;
  baseUrl: string;
  headers: Record<string, string>;
  failover: FactorSourceName | undefined;
  cacheTtlMs: number;
  staleMaxAgeMs: number;
  /** What the client passes to `registry.breaker`: the caller's settings, the classifier and the derived deadline. */
  breaker: Partial<Omit<BreakerConfig, 'name'>>;
}

export interface ResolvedOptions {
  registry: BreakerRegistry;
  logger: FactorLogger;
  sources: Map<FactorSourceName, ResolvedSource>;
  cache: FactorCache | undefined;
  cacheEntries: number;
  defaults: readonly FactorDefault[];
  idleTimeoutMs: number;
  maxRetryAfterMs: number;
}

/**
 * Validates createFactorClient's options once (a ConfigError naming every bad field) and settles
 * every default, reading `cache_ttl`, `stale_max_age`, `failover` and `call_timeout` from each
 * source's `factor_broker.<source>` block.
 */
export function resolveOptions(input: FactorClientOptions): ResolvedOptions {
  const o = parseOrThrow(optionsSchema, withHiddenHeaders(input), CONTEXT) as FactorClientOptions;
  const configured = SOURCE_NAMES.filter((name) => o.sources[name] !== undefined);
  const sources = new Map<FactorSourceName, ResolvedSource>();
  for (const name of configured) sources.set(name, resolveSource(name, o.sources[name]!, o, configured));
  return {
    registry: o.registry,
    logger: o.logger ?? o.registry.logger,
    sources,
    cache: o.cache,
    cacheEntries: o.cacheEntries ?? DEFAULTS.cacheEntries,
    defaults: o.defaults ?? [],
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    maxRetryAfterMs: o.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs,
  };
}

/** The client-owned keys of a `factor_broker.<source>` block (breaker-core keeps unknown keys unchecked). */
const settingsSchema = z.looseObject({
  cache_ttl: z.number().optional(), // checked by breaker-core: seconds, ≥ 0
  stale_max_age: z
    .number({ error: 'expected a positive number of seconds' })
    .positive({ error: 'expected a positive number of seconds' })
    .optional(),
  failover: sourceName.optional(),
});

function resolveSource(
  name: FactorSourceName,
  given: FactorSourceOptions,
  o: FactorClientOptions,
  configured: readonly FactorSourceName[],
): ResolvedSource {
  const circuitName = `factor_broker.${name}`;
  const raw = o.registry.settings(circuitName);
  const settings = parseOrThrow(settingsSchema, raw, `${CONTEXT}: ${circuitName}`);
  const cacheTtlMs =
    given.cacheTtlMs ??
    (settings.cache_ttl === undefined ? DEFAULTS.cacheTtlMs : Math.round(settings.cache_ttl * 1000));
  const staleMaxAgeMs =
    given.staleMaxAgeMs ??
    (settings.stale_max_age === undefined ? DEFAULTS.staleMaxAgeMs : Math.round(settings.stale_max_age * 1000));
  const failover = given.failover ?? settings.failover;
  const where = given.failover === undefined ? `${circuitName}.failover` : `sources.${name}.failover`;
  const settled = z.unknown().superRefine((_, ctx) => {
    if (failover !== undefined && (failover === name || !configured.includes(failover))) {
      ctx.addIssue({
        code: 'custom',
        path: [where],
        message: `expected another configured source (${configured.filter((s) => s !== name).join(', ') || 'none'}), got "${failover}"`,
      });
    }
    if (staleMaxAgeMs < cacheTtlMs) {
      ctx.addIssue({
        code: 'custom',
        path: [`sources.${name}.staleMaxAgeMs`],
        message: `expected at least the cache TTL (${cacheTtlMs} ms), got ${staleMaxAgeMs} ms`,
      });
    }
  });
  parseOrThrow(settled, undefined, CONTEXT);
  return {
    name,
    circuitName,
    baseUrl: given.baseUrl.replace(/\/+$/, ''),
    headers: given.headers ?? {},
    failover,
    cacheTtlMs,
    staleMaxAgeMs,
    breaker: {
      ...o.breaker,
      classify: classifyFactorError,
      callTimeoutMs: o.breaker?.callTimeoutMs ?? (raw.call_timeout === undefined ? DEFAULTS.callTimeoutMs : undefined),
    },
  };
}

/** Headers may carry API keys: an invalid headers option is named in the error, never echoed. */
function withHiddenHeaders(input: unknown): unknown {
  const sources = (input as { sources?: unknown } | null)?.sources;
  if (typeof sources !== 'object' || sources === null) return input;
  const hidden = Object.fromEntries(
    Object.entries(sources).map(([k, v]) => [
      k,
      typeof v === 'object' && v !== null && 'headers' in v && !isStringRecord(v.headers)
        ? { ...v, headers: '<hidden>' }
        : v,
    ]),
  );
  return { ...(input as object), sources: hidden };
}

function isStringRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
}
