import { type BreakerRegistry, ConfigError, type Issue, type Logger } from '@gl-vcci/breaker-core';
import {
  anObject,
  baseOptions,
  breakerOverridesSchema,
  collectIssues,
  durationMs,
  formatIssues,
  headersSchema,
  type KeyValueStore,
  localSchema,
  nonNegativeInt,
  type ResolvedSettings,
  registrySchema,
  setting,
  storeSchema,
  toIssues,
  urlSchema,
} from '@gl-vcci/breaker-core/client';
import { z } from 'zod';
import { classifyFactorError } from './classify.js';
import { defaultRowSchema } from './defaults.js';
import type { CachedFactor, FactorBreakerOptions, FactorDefault, FactorSourceName } from './types.js';

const CONTEXT = 'createFactorClient';

export const SOURCE_NAMES: readonly FactorSourceName[] = ['ecoinvent', 'desnz', 'epa'];

export const DEFAULTS = {
  /** The circuit's deadline when neither the file (`call_timeout`) nor `breaker.callTimeoutMs` sets one. */
  callTimeoutMs: 10_000,
  /** Factors change yearly: a day-old answer is still right (config `cache_ttl`). */
  cacheTtlMs: 86_400_000,
  /** A week: beyond it an outage is no longer bridged silently (config `stale_max_age`). */
  staleMaxAgeMs: 604_800_000,
  /** The share of the cache TTL before expiry in which a hit also refreshes it in the background. */
  refreshAheadShare: 0.1,
  maxEntries: 10_000,
  idleTimeoutMs: 5_000,
  maxRetryAfterMs: 600_000,
} as const;

/** The client-owned keys of each `factor_broker.<source>` block, resolved by the registry. */
export const SETTINGS = {
  cacheTtlMs: setting.seconds('cache_ttl'),
  staleMaxAgeMs: setting.seconds('stale_max_age'),
  refreshAheadMs: setting.seconds('refresh_ahead'),
  failover: setting.service('failover', SOURCE_NAMES),
};

const sourceName = z.enum(SOURCE_NAMES as [FactorSourceName, ...FactorSourceName[]], {
  error: `expected one of ${SOURCE_NAMES.join(', ')}`,
});
const cacheTtlMs = nonNegativeInt('a non-negative integer (ms)');
const staleMaxAgeMs = durationMs('a positive integer (ms)');

const sourceSchema = z.strictObject(
  {
    baseUrl: urlSchema(),
    headers: headersSchema.optional(),
    failover: sourceName.optional(),
    cacheTtlMs: cacheTtlMs.optional(),
    staleMaxAgeMs: staleMaxAgeMs.optional(),
    refreshAheadMs: cacheTtlMs.optional(),
    breaker: breakerOverridesSchema.optional(),
  },
  anObject('an object of source settings ({ baseUrl, … })'),
);

const optionsSchema = z.strictObject(
  {
    ...baseOptions,
    sources: z
      .strictObject(
        { ecoinvent: sourceSchema.optional(), desnz: sourceSchema.optional(), epa: sourceSchema.optional() },
        anObject('an object of sources by name (ecoinvent, desnz, epa)'),
      )
      .refine((s) => Object.values(s).some((v) => v !== undefined), { error: 'expected at least one source' }),
    cache: storeSchema<KeyValueStore<CachedFactor>>().optional(),
    local: localSchema.optional(),
    defaults: z.array(defaultRowSchema, { error: 'expected an array of default factors' }).optional(),
    idleTimeoutMs: durationMs().optional(),
    maxRetryAfterMs: durationMs().optional(),
  },
  anObject('an object of options'),
);

/** One source with its options, its file settings and every default applied. */
export interface ResolvedSource {
  name: FactorSourceName;
  circuitName: string;
  baseUrl: string;
  headers: Record<string, string>;
  failover: FactorSourceName | undefined;
  cacheTtlMs: number;
  staleMaxAgeMs: number;
  /** A hit this close to the end of its TTL is served and refreshed in the background. */
  refreshAheadMs: number;
  /** The caller's overrides of the circuit, passed to `registry.breaker`. */
  breaker: FactorBreakerOptions;
}

export interface ResolvedOptions {
  registry: BreakerRegistry;
  logger: Logger;
  sources: ResolvedSource[];
  cache: KeyValueStore<CachedFactor> | undefined;
  local: { maxEntries: number; maxBytes: number | undefined };
  defaults: readonly FactorDefault[];
  idleTimeoutMs: number;
  maxRetryAfterMs: number;
}

type FileSettings = ResolvedSettings<typeof SETTINGS>;

/**
 * Validates createFactorClient's options and each source's file settings once. Every problem —
 * a bad field, a bad file value, and the checks across fields (a failover to a source not
 * configured, a stale maximum age below the cache TTL, `local` beside `cache`, breaker overrides
 * the circuit would refuse) — is named in ONE ConfigError, so a deployment is fixed in one go.
 */
export function resolveOptions(input: unknown): ResolvedOptions {
  const parsed = optionsSchema.safeParse(input);
  const issues: Issue[] = parsed.success ? [] : toIssues(parsed.error, input);
  const raw = record(input);
  const registry = registrySchema.safeParse(raw.registry).success ? (raw.registry as BreakerRegistry) : undefined;
  const given = record(raw.sources);
  const configured = SOURCE_NAMES.filter((name) => typeof given[name] === 'object' && given[name] !== null);
  const sources: ResolvedSource[] = [];
  const notes: string[] = [];
  for (const name of configured) {
    const source = record(given[name]);
    // Asked even when the options are bad: the file's errors belong in the same report.
    const file = registry
      ? collectIssues(issues, () => registry.settings(`factor_broker.${name}`, SETTINGS))
      : undefined;
    const resolved = settle(name, source, file ?? {}, configured, issues, notes);
    if (registry && source.breaker !== undefined) checkBreaker(registry, resolved, issues);
    sources.push(resolved);
  }
  if (raw.cache !== undefined && raw.local !== undefined) {
    issues.push({ path: 'local', message: 'expected nothing when `cache` is given (it bounds the default store)' });
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(`${CONTEXT}: ${formatIssues(issues)}`, issues);
  const o = parsed.data;
  const logger = o.logger ?? o.registry.logger;
  for (const note of notes) logger.warn({ client: 'factor' }, note);
  return {
    registry: o.registry,
    logger,
    sources,
    cache: o.cache,
    local: { maxEntries: o.local?.maxEntries ?? DEFAULTS.maxEntries, maxBytes: o.local?.maxBytes },
    defaults: o.defaults ?? [],
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    maxRetryAfterMs: o.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs,
  };
}

/**
 * One source's settings, the option beating the file and the file the default; the checks across
 * fields are made on values that passed their own check (a bad one is already reported).
 */
function settle(
  name: FactorSourceName,
  source: Record<string, unknown>,
  file: Partial<FileSettings>,
  configured: readonly FactorSourceName[],
  issues: Issue[],
  notes: string[],
): ResolvedSource {
  const circuitName = `factor_broker.${name}`;
  const option = <T>(key: string, schema: z.ZodType<T>): { given: boolean; value: T | undefined } => {
    const parsed = schema.safeParse(source[key]);
    return { given: source[key] !== undefined, value: parsed.success ? parsed.data : undefined };
  };
  // The option when given (undefined when it is bad: already reported), else the file's value.
  const pick = <T>(o: { given: boolean; value: T | undefined }, fromFile: T | undefined) =>
    o.given ? o.value : fromFile;

  const failoverOption = option('failover', sourceName);
  let failover = pick(failoverOption, file.failover as FactorSourceName | undefined);
  if (failover !== undefined && (failover === name || !configured.includes(failover))) {
    const others = configured.filter((s) => s !== name).join(', ') || 'none';
    const message = `expected another configured source (${others}), got "${failover}"`;
    // The shared file names the platform's failovers; a deployment given fewer sources runs without
    // that one (said at warn), while a failover the caller names itself must exist.
    if (failoverOption.given || failover === name)
      issues.push({ path: failoverOption.given ? `sources.${name}.failover` : `${circuitName}.failover`, message });
    else
      notes.push(`${circuitName}.failover names ${failover}, which this client was not given: no failover for ${name}`);
    failover = undefined;
  }
  const ttlOption = option('cacheTtlMs', cacheTtlMs);
  const staleOption = option('staleMaxAgeMs', staleMaxAgeMs);
  const ttl = pick(ttlOption, file.cacheTtlMs) ?? DEFAULTS.cacheTtlMs;
  const staleSet = pick(staleOption, file.staleMaxAgeMs);
  // Unset, the maximum age is the default week, or the TTL when that is longer.
  const stale = staleSet ?? Math.max(DEFAULTS.staleMaxAgeMs, ttl);
  const ttlBad = ttlOption.given && ttlOption.value === undefined; // reported already; compare nothing to it
  if (staleSet !== undefined && !ttlBad && stale < ttl) {
    issues.push({
      path: staleOption.given ? `sources.${name}.staleMaxAgeMs` : `${circuitName}.stale_max_age`,
      message: `expected at least the cache TTL (${ttl} ms), got ${stale} ms`,
    });
  }
  return {
    name,
    circuitName,
    baseUrl: typeof source.baseUrl === 'string' ? source.baseUrl.replace(/\/+$/, '') : '',
    headers: option('headers', headersSchema).value ?? {},
    failover,
    cacheTtlMs: ttl,
    staleMaxAgeMs: stale,
    refreshAheadMs: Math.min(
      ttl,
      pick(option('refreshAheadMs', cacheTtlMs), file.refreshAheadMs) ?? Math.round(ttl * DEFAULTS.refreshAheadShare),
    ),
    breaker: (option('breaker', breakerOverridesSchema).value ?? {}) as FactorBreakerOptions,
  };
}

/** What every source's circuit starts from, under the file's settings and the caller's overrides. */
export const BREAKER_DEFAULTS = { classify: classifyFactorError, callTimeoutMs: DEFAULTS.callTimeoutMs };

/**
 * The circuit this source's overrides would make, checked without making it, so a bad override
 * is reported with the rest instead of after some circuits already exist.
 */
function checkBreaker(registry: BreakerRegistry, source: ResolvedSource, issues: Issue[]): void {
  collectIssues(
    issues,
    () => registry.breakerConfig(source.circuitName, source.breaker, BREAKER_DEFAULTS),
    `sources.${source.name}.breaker.`,
  );
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
