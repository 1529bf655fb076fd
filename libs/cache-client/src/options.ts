import { type BreakerConfig, type BreakerRegistry, type Clock, ConfigError } from '@gl-vcci/breaker-core';
import { z } from 'zod';
import { describe } from './codec.js';
import type { CacheClientOptions, Logger } from './types.js';

export const DEFAULTS = {
  circuitName: 'cache.redis',
  keyPrefix: '',
  /** Used when the config file sets no `call_timeout`: a slow cache is worse than none. */
  callTimeoutMs: 500,
  localMaxEntries: 10_000,
  /** Used when neither `local.maxTtlMs` nor the config's `cache_ttl` is set. */
  localMaxTtlMs: 300_000,
  connectTimeoutMs: 1_000,
  socketTimeoutMs: 2_000,
  pingIntervalMs: 1_000,
  reconnectMaxDelayMs: 2_000,
} as const;

/** Options with every default applied, and the settings read from the config file. */
export interface ResolvedOptions {
  url: string;
  registry: BreakerRegistry;
  circuitName: string;
  keyPrefix: string;
  localMaxEntries: number;
  localMaxTtlMs: number;
  connectTimeoutMs: number;
  socketTimeoutMs: number;
  pingIntervalMs: number;
  reconnectMaxDelayMs: number;
  /** Overrides for registry.breaker(): the default deadline where the file has none, then the caller's. */
  breakerOverrides: Partial<Omit<BreakerConfig, 'name'>>;
  logger: Logger;
  clock: Clock | undefined;
}

const expected = (what: string) => ({ error: `expected ${what}` });
const positiveInt = () =>
  z.number(expected('a positive integer')).int(expected('a positive integer')).positive(expected('a positive integer'));
const MAX_TIMER_MS = 2_147_483_647;
const durationMs = () => positiveInt().max(MAX_TIMER_MS, expected(`at most ${MAX_TIMER_MS} ms`));

const schema = z.strictObject({
  url: z.string(expected('a redis:// or rediss:// URL')).refine(isRedisUrl, expected('a redis:// or rediss:// URL')),
  registry: z.custom<BreakerRegistry>(
    (r) =>
      typeof (r as BreakerRegistry | null)?.breaker === 'function' &&
      typeof (r as BreakerRegistry).settings === 'function',
    expected('a BreakerRegistry'),
  ),
  keyPrefix: z.string(expected('a string')).optional(),
  local: z
    .strictObject({ maxEntries: positiveInt().optional(), maxTtlMs: durationMs().optional() }, expected('an object'))
    .optional(),
  connection: z
    .strictObject(
      {
        connectTimeoutMs: durationMs().optional(),
        socketTimeoutMs: durationMs().optional(),
        pingIntervalMs: durationMs().optional(),
        reconnectMaxDelayMs: durationMs().optional(),
      },
      expected('an object'),
    )
    .optional(),
  // Checked field by field by breaker-core when the breaker is built.
  breaker: z.record(z.string(), z.unknown(), expected('an object')).optional(),
  circuitName: z.string(expected('a non-empty string')).min(1, expected('a non-empty string')).optional(),
  logger: z
    .custom<Logger>(
      (l) => typeof (l as Logger | null)?.child === 'function' && typeof (l as Logger).warn === 'function',
      expected('a pino logger'),
    )
    .optional(),
  clock: z
    .custom<Clock>(
      (c) => typeof (c as Clock | null)?.now === 'function' && typeof (c as Clock).setTimeout === 'function',
      expected('a Clock (now, setTimeout, clearTimeout)'),
    )
    .optional(),
});

function isRedisUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'redis:' || protocol === 'rediss:';
  } catch {
    return false;
  }
}

/**
 * Validates createCacheClient's options once (a ConfigError naming every bad field) and resolves
 * the defaults, reading `cache_ttl` and `call_timeout` from the circuit's config block.
 */
export function resolveOptions(input: CacheClientOptions): ResolvedOptions {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      const got = issue.code === 'unrecognized_keys' ? '' : `, got ${shown(issue.path, valueAt(input, issue.path))}`;
      return { path, message: `${issue.message}${got}` };
    });
    throw new ConfigError(
      `createCacheClient: ${issues.map((i) => `${i.path || '(options)'}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  const o = parsed.data;
  const circuitName = o.circuitName ?? DEFAULTS.circuitName;
  if (o.registry.get(circuitName)) {
    throw new ConfigError(
      `createCacheClient: circuitName: the registry already has a circuit "${circuitName}": give each cache client its own circuitName`,
      [{ path: 'circuitName', message: `already in the registry: "${circuitName}"` }],
    );
  }
  const pingIntervalMs = o.connection?.pingIntervalMs ?? DEFAULTS.pingIntervalMs;
  const socketTimeoutMs = o.connection?.socketTimeoutMs ?? DEFAULTS.socketTimeoutMs;
  if (pingIntervalMs >= socketTimeoutMs) {
    const message = `expected less than connection.socketTimeoutMs (${socketTimeoutMs}), or an idle connection is dropped, got ${pingIntervalMs}`;
    throw new ConfigError(`createCacheClient: connection.pingIntervalMs: ${message}`, [
      { path: 'connection.pingIntervalMs', message },
    ]);
  }
  const settings = o.registry.settings(circuitName);
  const cacheTtl = settings.cache_ttl;
  if (o.local?.maxTtlMs === undefined && cacheTtl !== undefined && cacheTtl * 1000 < 1) {
    throw new ConfigError(
      `createCacheClient: ${circuitName}.cache_ttl: expected at least 0.001 seconds for the local tier, got ${cacheTtl}`,
      [{ path: `${circuitName}.cache_ttl`, message: `expected at least 0.001 seconds, got ${cacheTtl}` }],
    );
  }
  const breakerOverrides: Partial<Omit<BreakerConfig, 'name'>> = {};
  if (settings.call_timeout === undefined) breakerOverrides.callTimeoutMs = DEFAULTS.callTimeoutMs;
  for (const [key, value] of Object.entries(o.breaker ?? {})) {
    if (value !== undefined) (breakerOverrides as Record<string, unknown>)[key] = value;
  }
  return {
    url: o.url,
    registry: o.registry,
    circuitName,
    keyPrefix: o.keyPrefix ?? DEFAULTS.keyPrefix,
    localMaxEntries: o.local?.maxEntries ?? DEFAULTS.localMaxEntries,
    localMaxTtlMs: o.local?.maxTtlMs ?? (cacheTtl === undefined ? DEFAULTS.localMaxTtlMs : Math.round(cacheTtl * 1000)),
    connectTimeoutMs: o.connection?.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    socketTimeoutMs,
    pingIntervalMs,
    reconnectMaxDelayMs: o.connection?.reconnectMaxDelayMs ?? DEFAULTS.reconnectMaxDelayMs,
    breakerOverrides,
    logger: o.logger ?? o.registry.logger,
    clock: o.clock,
  };
}

/** The offending value for a message; a URL may carry a password, so a bad one is not echoed. */
function shown(path: ReadonlyArray<PropertyKey>, value: unknown): string {
  if (path[0] === 'url' && typeof value === 'string') return 'a string that is not one';
  return describe(value);
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value: unknown = root;
  for (const key of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  return value;
}
