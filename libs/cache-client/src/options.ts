import {
  anObject,
  type BreakerConfig,
  type BreakerRegistry,
  breakerOverridesSchema,
  describeValue,
  durationMs,
  loggerSchema,
  nonEmptyString,
  parseOrThrow,
  positiveInt,
  registrySchema,
} from '@gl-vcci/breaker-core';
import { z } from 'zod';
import { classifyRedisError } from './classify.js';
import { CacheArgumentError } from './errors.js';
import type { CacheClientOptions, CacheLogger } from './types.js';

const CONTEXT = 'createCacheClient';

export const DEFAULTS = {
  circuitName: 'cache.redis',
  keyPrefix: '',
  /** Used when the config file sets no `call_timeout`: a slow cache is worse than none. */
  callTimeoutMs: 500,
  localMaxEntries: 10_000,
  /** 50 MiB of JSON text in the local tier. */
  localMaxBytes: 50 * 1024 * 1024,
  /** Used when neither `local.maxTtlMs` nor the config's `cache_ttl` is set. */
  localMaxTtlMs: 300_000,
  connectTimeoutMs: 1_000,
  socketTimeoutMs: 2_000,
  pingIntervalMs: 1_000,
  reconnectMaxDelayMs: 2_000,
} as const;

const optionsSchema = z.strictObject(
  {
    url: z
      .string({ error: 'expected a redis:// or rediss:// URL' })
      .refine(isRedisUrl, { error: 'expected a redis:// or rediss:// URL' }),
    registry: registrySchema,
    keyPrefix: z.string({ error: 'expected a string' }).optional(),
    local: z
      .strictObject(
        { maxEntries: positiveInt().optional(), maxBytes: positiveInt().optional(), maxTtlMs: durationMs().optional() },
        anObject('an object of local tier settings'),
      )
      .optional(),
    connection: z
      .strictObject(
        {
          connectTimeoutMs: durationMs().optional(),
          socketTimeoutMs: durationMs().optional(),
          pingIntervalMs: durationMs().optional(),
          reconnectMaxDelayMs: durationMs().optional(),
        },
        anObject('an object of connection settings'),
      )
      .optional(),
    breaker: breakerOverridesSchema.optional(),
    circuitName: nonEmptyString().optional(),
    logger: loggerSchema.optional(),
  },
  anObject('an object of options'),
);

function isRedisUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'redis:' || protocol === 'rediss:';
  } catch {
    return false;
  }
}

/** Options with every default applied, and the settings read from the config file. */
export interface ResolvedOptions {
  url: string;
  registry: BreakerRegistry;
  logger: CacheLogger;
  circuitName: string;
  keyPrefix: string;
  localMaxEntries: number;
  localMaxBytes: number;
  localMaxTtlMs: number;
  connectTimeoutMs: number;
  socketTimeoutMs: number;
  pingIntervalMs: number;
  reconnectMaxDelayMs: number;
  /** What the client passes to `registry.breaker`: the caller's settings, the classifier and the defaults derived here. */
  breaker: Partial<Omit<BreakerConfig, 'name'>>;
}

/**
 * Validates createCacheClient's options once (a ConfigError naming every bad field) and settles
 * every default, reading `cache_ttl` and `call_timeout` from the circuit's config block.
 */
export function resolveOptions(input: CacheClientOptions): ResolvedOptions {
  const o = parseOrThrow(optionsSchema, withHiddenUrl(input), CONTEXT) as CacheClientOptions;
  const circuitName = o.circuitName ?? DEFAULTS.circuitName;
  const settings = o.registry.settings(circuitName);
  const pingIntervalMs = o.connection?.pingIntervalMs ?? DEFAULTS.pingIntervalMs;
  const socketTimeoutMs = o.connection?.socketTimeoutMs ?? DEFAULTS.socketTimeoutMs;
  const cacheTtl = o.local?.maxTtlMs === undefined ? settings.cache_ttl : undefined;
  checkSettled(circuitName, { connection: { pingIntervalMs, socketTimeoutMs }, cacheTtl });
  return {
    url: o.url,
    registry: o.registry,
    logger: o.logger ?? o.registry.logger,
    circuitName,
    keyPrefix: o.keyPrefix ?? DEFAULTS.keyPrefix,
    localMaxEntries: o.local?.maxEntries ?? DEFAULTS.localMaxEntries,
    localMaxBytes: o.local?.maxBytes ?? DEFAULTS.localMaxBytes,
    localMaxTtlMs: o.local?.maxTtlMs ?? (cacheTtl === undefined ? DEFAULTS.localMaxTtlMs : Math.round(cacheTtl * 1000)),
    connectTimeoutMs: o.connection?.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    socketTimeoutMs,
    pingIntervalMs,
    reconnectMaxDelayMs: o.connection?.reconnectMaxDelayMs ?? DEFAULTS.reconnectMaxDelayMs,
    breaker: {
      ...o.breaker,
      classify: classifyRedisError,
      callTimeoutMs:
        o.breaker?.callTimeoutMs ?? (settings.call_timeout === undefined ? DEFAULTS.callTimeoutMs : undefined),
    },
  };
}

/** A URL may carry a password: an invalid one (a string, or an object such as a URL) is named in the error, never echoed. */
function withHiddenUrl(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const { url } = input as { url?: unknown };
  const secret = typeof url === 'string' ? !isRedisUrl(url) : typeof url === 'object' && url !== null;
  return secret ? { ...input, url: '<hidden>' } : input;
}

/**
 * Relations between settled values (defaults applied), checked with parseOrThrow so they read like
 * every other option error and name the value in force.
 */
function checkSettled(
  circuitName: string,
  settled: { connection: { pingIntervalMs: number; socketTimeoutMs: number }; cacheTtl: number | undefined },
): void {
  const { pingIntervalMs, socketTimeoutMs } = settled.connection;
  const shown = { connection: settled.connection, [circuitName]: { cache_ttl: settled.cacheTtl } };
  const schema = z.unknown().superRefine((_, ctx) => {
    if (pingIntervalMs >= socketTimeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['connection', 'pingIntervalMs'],
        message: `expected less than connection.socketTimeoutMs (${socketTimeoutMs}), or an idle connection is dropped`,
      });
    }
    if (settled.cacheTtl !== undefined && settled.cacheTtl * 1000 < 1) {
      ctx.addIssue({
        code: 'custom',
        path: [circuitName, 'cache_ttl'],
        message: 'expected at least 0.001 seconds for the local tier',
      });
    }
  });
  parseOrThrow(schema, shown, CONTEXT);
}

// Each call's arguments, checked before anything reaches Redis: CacheArgumentError naming the method and the argument.

export function checkKey(method: string, key: unknown, name = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new CacheArgumentError(`${method}: ${name}: expected a non-empty string, got ${describeValue(key)}`);
  }
}

export function checkKeys(method: string, keys: unknown): asserts keys is readonly string[] {
  if (!Array.isArray(keys)) {
    throw new CacheArgumentError(`${method}: keys: expected an array, got ${describeValue(keys)}`);
  }
  keys.forEach((key, i) => {
    checkKey(method, key, `keys[${i}]`);
  });
}

export function checkTtl(method: string, ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new CacheArgumentError(
      `${method}: ttlMs: expected a positive integer (milliseconds), got ${describeValue(ttlMs)}`,
    );
  }
}

export function checkLoader(method: string, loader: unknown): asserts loader is () => unknown {
  if (typeof loader !== 'function') {
    throw new CacheArgumentError(`${method}: loader: expected a function, got ${describeValue(loader)}`);
  }
}
