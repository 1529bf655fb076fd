import { type BreakerRegistry, ConfigError, type Issue, type Logger } from '@gl-vcci/breaker-core';
import {
  anObject,
  baseOptions,
  breakerOverridesSchema,
  collectIssues,
  durationMs,
  formatIssues,
  type KeyValueStore,
  localSchema,
  nonNegativeInt,
  nonNegativeNumber,
  positiveInt,
  type ResolvedSettings,
  registrySchema,
  secretSchema,
  setting,
  storeSchema,
  toIssues,
  urlSchema,
} from '@gl-vcci/breaker-core/client';
import { z } from 'zod';
import type { CachedList, ErpAuth, ErpBreakerOptions, ErpSystem } from './types.js';

const CONTEXT = 'createErpClient';

export const SYSTEM_NAMES: readonly ErpSystem[] = ['sap', 'oracle', 'workday'];

/** Most records a page may ask for, and the default, per system (Oracle: 500; Workday REST: 100). */
export const PAGE_SIZES: Readonly<Record<ErpSystem, { max: number; default: number }>> = {
  sap: { max: 5_000, default: 500 },
  oracle: { max: 500, default: 500 },
  workday: { max: 100, default: 100 },
};

export const DEFAULTS = {
  /** The page deadline when neither the file (`call_timeout`) nor `breaker.callTimeoutMs` sets one. */
  callTimeoutMs: 60_000,
  /** Pages running at once per system when the file has no `connection_pool_size`. */
  poolSize: 4,
  /** A complete list this young is served as `cache` when live fails (config `cache_ttl`). */
  cacheTtlMs: 3_600_000,
  /** A day: an older list is not passed off as today's (config `stale_max_age`). */
  staleMaxAgeMs: 86_400_000,
  /** The whole fetch, every page and retry included (config `fetch_deadline`). */
  fetchDeadlineMs: 180_000,
  maxEntries: 200,
  maxBytes: 256 * 1024 * 1024,
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  idleTimeoutMs: 60_000,
  maxRetryAfterMs: 600_000,
} as const;

/** The client-owned keys of each `erp_connectors.<system>` block, resolved by the registry. */
export const SETTINGS = {
  poolSize: setting.positiveInt('connection_pool_size'),
  maxQueue: setting.custom('max_queue', nonNegativeInt()),
  cacheTtlMs: setting.seconds('cache_ttl'),
  staleMaxAgeMs: setting.seconds('stale_max_age'),
  fetchDeadlineMs: setting.seconds('fetch_deadline', { positive: true }),
};

const NAME = /^[A-Za-z0-9_.@-]+$/;
const pathName = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .regex(NAME, { error: `expected ${what} (letters, digits, _ . @ -)` })
    .max(100, { error: `expected ${what} of at most 100 characters` });

const authSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('basic'), username: secretSchema(), password: secretSchema() }),
    z.strictObject({ type: z.literal('bearer'), token: secretSchema() }),
    z.strictObject({
      type: z.literal('oauth2'),
      tokenUrl: urlSchema(),
      clientId: secretSchema(),
      clientSecret: secretSchema(),
      scope: z.string({ error: 'expected a string' }).optional(),
    }),
  ],
  { error: 'expected { type: "basic" | "bearer" | "oauth2", … }' },
);

const common = {
  baseUrl: urlSchema(),
  auth: authSchema,
  pageSize: positiveInt().optional(),
  breaker: breakerOverridesSchema.optional(),
};

const systemsSchema = z
  .strictObject(
    {
      sap: z
        .strictObject(
          {
            ...common,
            sapClient: z
              .string()
              .regex(/^\d{3}$/, { error: 'expected three digits' })
              .optional(),
          },
          anObject('an object of SAP settings ({ baseUrl, auth, … })'),
        )
        .optional(),
      oracle: z.strictObject(common, anObject('an object of Oracle settings ({ baseUrl, auth, … })')).optional(),
      workday: z
        .strictObject(
          {
            ...common,
            tenant: pathName('a tenant name'),
            purchaseOrderReport: z.strictObject(
              { owner: pathName('a report owner'), name: pathName('a report name') },
              anObject('an object ({ owner, name })'),
            ),
          },
          anObject('an object of Workday settings ({ baseUrl, auth, tenant, purchaseOrderReport, … })'),
        )
        .optional(),
    },
    anObject('an object of systems by name (sap, oracle, workday)'),
  )
  .refine((s) => Object.values(s).some((v) => v !== undefined), { error: 'expected at least one system' });

const optionsSchema = z.strictObject(
  {
    ...baseOptions,
    systems: systemsSchema,
    cache: storeSchema<KeyValueStore<CachedList>>().optional(),
    local: localSchema.optional(),
    retry: z
      .strictObject(
        {
          maxAttempts: positiveInt().optional(),
          baseDelayMs: nonNegativeNumber().optional(),
          maxDelayMs: nonNegativeNumber().optional(),
        },
        anObject('an object ({ maxAttempts?, baseDelayMs?, maxDelayMs? })'),
      )
      .optional(),
    idleTimeoutMs: durationMs().optional(),
    maxRetryAfterMs: durationMs().optional(),
  },
  anObject('an object of options'),
);

/** One system with its options, its file settings and every default applied. */
export interface ResolvedSystem {
  name: ErpSystem;
  circuitName: string;
  baseUrl: string;
  auth: ErpAuth;
  pageSize: number;
  sapClient: string | undefined;
  workday: { tenant: string; report: { owner: string; name: string } } | undefined;
  poolSize: number;
  maxQueue: number;
  cacheTtlMs: number;
  staleMaxAgeMs: number;
  fetchDeadlineMs: number;
  breaker: ErpBreakerOptions;
}

export interface ResolvedOptions {
  registry: BreakerRegistry;
  logger: Logger;
  systems: ResolvedSystem[];
  cache: KeyValueStore<CachedList> | undefined;
  local: { maxEntries: number; maxBytes: number };
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  idleTimeoutMs: number;
  maxRetryAfterMs: number;
}

type FileSettings = ResolvedSettings<typeof SETTINGS>;

/**
 * Validates createErpClient's options and each system's file settings once: a bad field, a bad
 * file value and the checks across them (a page size above the system's limit, a stale maximum age
 * below the cache TTL, `local` beside `cache`, breaker overrides the circuit would refuse) are
 * named in ONE ConfigError. Secrets and URLs are never echoed.
 */
export function resolveOptions(input: unknown): ResolvedOptions {
  const parsed = optionsSchema.safeParse(input);
  const issues: Issue[] = parsed.success ? [] : toIssues(parsed.error, input);
  const raw = record(input);
  const registry = registrySchema.safeParse(raw.registry).success ? (raw.registry as BreakerRegistry) : undefined;
  const given = record(raw.systems);
  const systems: ResolvedSystem[] = [];
  for (const name of SYSTEM_NAMES) {
    const system = given[name];
    if (typeof system !== 'object' || system === null) continue;
    const circuitName = `erp_connectors.${name}`;
    const file = registry ? collectIssues(issues, () => registry.settings(circuitName, SETTINGS)) : undefined;
    const resolved = settle(name, record(system), file ?? {}, issues);
    if (registry && resolved.breaker !== undefined) {
      collectIssues(
        issues,
        () => registry.breakerConfig(circuitName, resolved.breaker, { callTimeoutMs: DEFAULTS.callTimeoutMs }),
        `systems.${name}.breaker.`,
      );
    }
    systems.push(resolved);
  }
  if (raw.cache !== undefined && raw.local !== undefined) {
    issues.push({ path: 'local', message: 'expected nothing when `cache` is given (it bounds the default store)' });
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(`${CONTEXT}: ${formatIssues(issues)}`, issues);
  const o = parsed.data;
  return {
    registry: o.registry,
    logger: o.logger ?? o.registry.logger,
    systems,
    cache: o.cache,
    local: { maxEntries: o.local?.maxEntries ?? DEFAULTS.maxEntries, maxBytes: o.local?.maxBytes ?? DEFAULTS.maxBytes },
    retry: {
      maxAttempts: o.retry?.maxAttempts ?? DEFAULTS.maxAttempts,
      baseDelayMs: o.retry?.baseDelayMs ?? DEFAULTS.baseDelayMs,
      maxDelayMs: o.retry?.maxDelayMs ?? DEFAULTS.maxDelayMs,
    },
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    maxRetryAfterMs: o.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs,
  };
}

function settle(
  name: ErpSystem,
  system: Record<string, unknown>,
  file: Partial<FileSettings>,
  issues: Issue[],
): ResolvedSystem {
  const circuitName = `erp_connectors.${name}`;
  const limits = PAGE_SIZES[name];
  const pageSize = typeof system.pageSize === 'number' ? system.pageSize : limits.default;
  if (pageSize > limits.max) {
    issues.push({
      path: `systems.${name}.pageSize`,
      message: `expected at most ${limits.max} (${name}'s page limit), got ${pageSize}`,
    });
  }
  const ttl = file.cacheTtlMs ?? DEFAULTS.cacheTtlMs;
  const stale = file.staleMaxAgeMs ?? Math.max(DEFAULTS.staleMaxAgeMs, ttl);
  if (stale < ttl) {
    issues.push({
      path: `${circuitName}.stale_max_age`,
      message: `expected at least the cache TTL (${ttl} ms), got ${stale} ms`,
    });
  }
  const poolSize = file.poolSize ?? DEFAULTS.poolSize;
  const report = record(system.purchaseOrderReport);
  return {
    name,
    circuitName,
    baseUrl: typeof system.baseUrl === 'string' ? system.baseUrl.replace(/\/+$/, '') : '',
    auth: system.auth as ErpAuth,
    pageSize,
    sapClient: typeof system.sapClient === 'string' ? system.sapClient : undefined,
    workday:
      name === 'workday'
        ? {
            tenant: String(system.tenant ?? ''),
            report: { owner: String(report.owner ?? ''), name: String(report.name ?? '') },
          }
        : undefined,
    poolSize,
    maxQueue: file.maxQueue ?? poolSize * 2,
    cacheTtlMs: ttl,
    staleMaxAgeMs: stale,
    fetchDeadlineMs: Math.round(file.fetchDeadlineMs ?? DEFAULTS.fetchDeadlineMs),
    breaker: (system.breaker ?? {}) as ErpBreakerOptions,
  };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
