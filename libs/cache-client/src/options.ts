import { type BreakerRegistry, ConfigError, type Issue, type Logger } from '@gl-vcci/breaker-core';
import {
  anObject,
  baseOptions,
  breakerOverridesSchema,
  describeValue,
  durationMs,
  formatIssues,
  localSchema,
  nonEmptyString,
  parseOrThrow,
  setting,
  urlSchema,
} from '@gl-vcci/breaker-core/client';
import { z } from 'zod';
import { CacheArgumentError } from './errors.js';
import type { CacheClientOptions } from './types.js';

const CONTEXT = 'createCacheClient';

export const DEFAULTS = {
  circuitName: 'cache.redis',
  keyPrefix: '',
  /** The circuit's deadline when neither the file (`call_timeout`) nor `breaker.callTimeoutMs` sets one: a slow cache is worse than none. */
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

/** The client-owned keys of the circuit's block, resolved (seconds to ms) by the registry. */
// 0 would keep nothing in the local tier: refused by the registry, naming the key.
export const SETTINGS = { cacheTtlMs: setting.seconds('cache_ttl', { positive: true }) };

/** A database number is all node-redis takes as the URL's path; anything else it throws on. */
const redisUrl = urlSchema(['redis:', 'rediss:']).refine(
  (url) => !URL.canParse(url) || /^\/?\d*$/.test(new URL(url).pathname),
  {
    error: 'expected a database number as the path of the URL, got another path (not shown)',
  },
);

/** breaker-core's `local` bounds, plus a TTL cap of this client's own. */
const localOptions = localSchema.extend({ maxTtlMs: durationMs().optional() });

const optionsSchema = z.strictObject(
  {
    ...baseOptions,
    url: redisUrl,
    keyPrefix: z.string({ error: 'expected a string' }).optional(),
    local: localOptions.optional(),
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
  },
  anObject('an object of options'),
);

/** Options with every default applied, and the settings resolved by the registry. */
export interface ResolvedOptions {
  url: string;
  registry: BreakerRegistry;
  logger: Logger;
  circuitName: string;
  keyPrefix: string;
  localMaxEntries: number;
  localMaxBytes: number;
  localMaxTtlMs: number;
  connectTimeoutMs: number;
  socketTimeoutMs: number;
  pingIntervalMs: number;
  reconnectMaxDelayMs: number;
  breaker: CacheClientOptions['breaker'];
}

/**
 * Validates createCacheClient's options once (a ConfigError naming every bad field, never
 * echoing the URL) and settles every default; `cache_ttl` comes resolved from the registry.
 */
export function resolveOptions(input: CacheClientOptions): ResolvedOptions {
  const o = parseOrThrow(optionsSchema, input, CONTEXT) as CacheClientOptions;
  const circuitName = o.circuitName ?? DEFAULTS.circuitName;
  const { cacheTtlMs } = o.registry.settings(circuitName, SETTINGS);
  const pingIntervalMs = o.connection?.pingIntervalMs ?? DEFAULTS.pingIntervalMs;
  const socketTimeoutMs = o.connection?.socketTimeoutMs ?? DEFAULTS.socketTimeoutMs;
  const issues: Issue[] = [];
  if (pingIntervalMs >= socketTimeoutMs) {
    issues.push({
      path: 'connection.pingIntervalMs',
      message: `expected less than connection.socketTimeoutMs (${socketTimeoutMs}), or an idle connection is dropped, got ${pingIntervalMs}`,
    });
  }
  if (issues.length > 0) throw new ConfigError(`${CONTEXT}: ${formatIssues(issues)}`, issues);
  return {
    url: o.url,
    registry: o.registry,
    logger: o.logger ?? o.registry.logger,
    circuitName,
    keyPrefix: o.keyPrefix ?? DEFAULTS.keyPrefix,
    localMaxEntries: o.local?.maxEntries ?? DEFAULTS.localMaxEntries,
    localMaxBytes: o.local?.maxBytes ?? DEFAULTS.localMaxBytes,
    localMaxTtlMs: o.local?.maxTtlMs ?? cacheTtlMs ?? DEFAULTS.localMaxTtlMs,
    connectTimeoutMs: o.connection?.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    socketTimeoutMs,
    pingIntervalMs,
    reconnectMaxDelayMs: o.connection?.reconnectMaxDelayMs ?? DEFAULTS.reconnectMaxDelayMs,
    breaker: o.breaker,
  };
}

// Each call's arguments, checked before anything reaches Redis: CacheArgumentError naming the
// method and the argument. Written by hand, not with zod: they run on every call.

function refuse(method: string, path: string, message: string): never {
  throw new CacheArgumentError(`${method}: ${path}: ${message}`, [{ path, message }]);
}

export function checkKey(method: string, key: unknown, name = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    refuse(method, name, `expected a non-empty string, got ${describeValue(key)}`);
  }
}

export function checkKeys(method: string, keys: unknown): asserts keys is readonly string[] {
  if (!Array.isArray(keys)) refuse(method, 'keys', `expected an array, got ${describeValue(keys)}`);
  keys.forEach((key, i) => {
    checkKey(method, key, `keys[${i}]`);
  });
}

export function checkTtl(method: string, ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    refuse(method, 'ttlMs', `expected a positive integer (milliseconds), got ${describeValue(ttlMs)}`);
  }
}

export function checkLoader(method: string, loader: unknown): asserts loader is () => unknown {
  if (typeof loader !== 'function') refuse(method, 'loader', `expected a function, got ${describeValue(loader)}`);
}

/** A call's options: `{ signal? }` and nothing else (a misspelt `sginal` would be ignored otherwise). */
export function checkCallOptions(
  method: string,
  options: unknown,
): asserts options is { signal?: AbortSignal } | undefined {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    refuse(method, 'options', `expected an object ({ signal? }), got ${describeValue(options)}`);
  }
  const unknown = Object.keys(options).filter((key) => key !== 'signal');
  if (unknown.length > 0) refuse(method, 'options', `unknown option ${unknown.map((k) => `"${k}"`).join(', ')}`);
  const { signal } = options as { signal?: unknown };
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    refuse(method, 'options.signal', `expected an AbortSignal, got ${describeValue(signal)}`);
  }
}
