import { type BreakerRegistry, ConfigError, type Logger } from '@gl-vcci/breaker-core';
import {
  anObject,
  baseOptions,
  boolean,
  breakerOverridesSchema,
  durationMs,
  formatIssues,
  type KeyValueStore,
  localSchema,
  nonEmptyString,
  nonNegativeNumber,
  parseOrThrow,
  positiveInt,
  secretSchema,
  setting,
  signalSchema,
  storeSchema,
  toIssues,
  urlSchema,
} from '@gl-vcci/breaker-core/client';
import { z } from 'zod';
import { LlmArgumentError } from './errors.js';
import { ANTHROPIC_BASE_URL } from './providers/anthropic.js';
import { OPENAI_BASE_URL } from './providers/openai.js';
import type { NormalizedRequest } from './providers/provider.js';
import type {
  CachedCompletion,
  LlmCallOptions,
  LlmClientOptions,
  LlmPrices,
  LlmProviderOptions,
  LlmRequest,
  ProviderName,
} from './types.js';

const CONTEXT = 'createLlmClient';
const NAMES = ['claude', 'openai'] as const;

export const DEFAULTS = {
  cacheTtlMs: 3_600_000,
  maxEntries: 1_000,
  cacheReadTimeoutMs: 250,
  /** The breaker's call deadline when the file has no `call_timeout`: long completions are normal. */
  callTimeoutMs: 60_000,
  firstTokenTimeoutMs: 20_000,
  idleTimeoutMs: 30_000,
} as const;

/** Each provider: its circuit, the environment variable its key comes from, and its defaults. */
export const PROVIDERS: Record<ProviderName, { circuit: string; env: string; model: string; baseURL: string }> = {
  claude: {
    circuit: 'llm_providers.claude',
    env: 'ANTHROPIC_API_KEY',
    model: 'claude-sonnet-4-6',
    baseURL: ANTHROPIC_BASE_URL,
  },
  openai: { circuit: 'llm_providers.openai', env: 'OPENAI_API_KEY', model: 'gpt-5-mini', baseURL: OPENAI_BASE_URL },
};

const pricesSchema = z.strictObject(
  { inputPerMillion: nonNegativeNumber(), outputPerMillion: nonNegativeNumber() },
  anObject('an object of prices in USD per million tokens'),
);

const providerSchema = z.strictObject(
  {
    apiKey: secretSchema().optional(),
    baseURL: urlSchema().optional(),
    model: nonEmptyString().optional(),
    prices: pricesSchema.optional(),
    failover: z.union([z.enum(NAMES), z.literal(false)], { error: 'expected "claude", "openai" or false' }).optional(),
    breaker: breakerOverridesSchema.optional(),
  },
  anObject('an object of provider settings'),
);

const optionsSchema = z.strictObject(
  {
    ...baseOptions,
    providers: z
      .strictObject(
        { claude: providerSchema.optional(), openai: providerSchema.optional() },
        anObject('an object with claude and/or openai'),
      )
      .refine((p) => p.claude !== undefined || p.openai !== undefined, { error: 'expected at least one provider' }),
    cache: z.union([z.literal(false), storeSchema<KeyValueStore<CachedCompletion>>()]).optional(),
    local: localSchema.optional(),
    cacheTtlMs: durationMs().optional(),
    cacheReadTimeoutMs: durationMs().optional(),
    stream: z
      .strictObject(
        { firstTokenTimeoutMs: durationMs().optional(), idleTimeoutMs: durationMs().optional() },
        anObject('an object of stream deadlines'),
      )
      .optional(),
  },
  anObject('an object of options'),
);

/** The client-owned keys of a provider's config block (breaker keys, `cache_ttl` and `primary` are breaker-core's). */
const FIELDS = {
  cacheTtlMs: setting.seconds('cache_ttl'),
  failover: setting.service('failover', NAMES),
  model: setting.string('model'),
  inputPrice: setting.number('input_price_per_mtok'),
  outputPrice: setting.number('output_price_per_mtok'),
};

export interface ResolvedProvider {
  name: ProviderName;
  circuit: string;
  model: string;
  apiKey: string;
  baseURL: string;
  prices: LlmPrices | undefined;
  /** The provider asked when this one cannot answer. */
  failover: ProviderName | undefined;
  breakerOverrides: NonNullable<LlmProviderOptions['breaker']>;
}

export interface ResolvedOptions {
  registry: BreakerRegistry;
  logger: Logger;
  /** In the order they are tried: the one naming a failover first. */
  providers: ResolvedProvider[];
  cache: KeyValueStore<CachedCompletion> | false | undefined;
  local: { maxEntries: number; maxBytes: number | undefined };
  cacheTtlMs: number;
  cacheReadTimeoutMs: number;
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
}

/**
 * Validates createLlmClient's options once (a ConfigError naming every bad field, never echoing
 * a key or URL) and settles every default from the providers' config blocks, which breaker-core
 * resolves (seconds to milliseconds, unknown keys reported).
 */
export function resolveOptions(input: LlmClientOptions, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const o = parseOrThrow(optionsSchema, input, CONTEXT) as LlmClientOptions;
  const given = NAMES.filter((name) => o.providers[name] !== undefined);
  const notes: string[] = [];
  const providers = given.map((name): ResolvedProvider & { cacheTtlMs: number | undefined } => {
    const options = o.providers[name]!;
    const defaults = PROVIDERS[name];
    const s = o.registry.settings(defaults.circuit, FIELDS);
    const apiKey = options.apiKey ?? env[defaults.env];
    if (!apiKey) {
      throw configError(`providers.${name}.apiKey`, `expected a key, or ${defaults.env} in the environment`);
    }
    let failover =
      options.failover === false ? undefined : (options.failover ?? (s.failover as ProviderName | undefined));
    if (failover !== undefined) {
      const fromFile = options.failover === undefined;
      const key = fromFile ? `${defaults.circuit}.failover` : `providers.${name}.failover`;
      if (failover === name) throw configError(key, `expected the other provider, got ${name} itself`);
      if (o.providers[failover] === undefined) {
        // The shared file names the platform's failover; a deployment given one provider runs
        // without it (said at warn), while a failover the caller names itself must exist.
        if (!fromFile) {
          throw configError(key, `expected a configured provider, got ${failover} (give providers.${failover})`);
        }
        notes.push(`${key} names ${failover}, which this client was not given: no failover for ${name}`);
        failover = undefined;
      }
    }
    return {
      name,
      circuit: defaults.circuit,
      model: options.model ?? s.model ?? defaults.model,
      apiKey,
      baseURL: options.baseURL ?? defaults.baseURL,
      prices: options.prices ?? pricesFrom(defaults.circuit, s.inputPrice, s.outputPrice),
      failover,
      breakerOverrides: options.breaker ?? {},
      cacheTtlMs: s.cacheTtlMs,
    };
  });
  const leading = providers.filter((p) => p.failover !== undefined);
  if (leading.length > 1) {
    throw configError(
      leading.map((p) => `${p.circuit}.failover`).join(', '),
      'expected one provider to name the other as its failover: the one naming it is tried first',
    );
  }
  // The provider naming a failover first, then its failover; without one, claude then openai.
  const ordered = leading[0] ? [leading[0], ...providers.filter((p) => p !== leading[0])] : providers;
  const logger = o.logger ?? o.registry.logger;
  for (const note of notes) logger.warn({ client: 'llm' }, note);
  return {
    registry: o.registry,
    logger,
    providers: ordered,
    cache: o.cache,
    local: { maxEntries: o.local?.maxEntries ?? DEFAULTS.maxEntries, maxBytes: o.local?.maxBytes },
    cacheTtlMs: o.cacheTtlMs ?? ordered[0]!.cacheTtlMs ?? DEFAULTS.cacheTtlMs,
    cacheReadTimeoutMs: o.cacheReadTimeoutMs ?? DEFAULTS.cacheReadTimeoutMs,
    firstTokenTimeoutMs: o.stream?.firstTokenTimeoutMs ?? DEFAULTS.firstTokenTimeoutMs,
    idleTimeoutMs: o.stream?.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
  };
}

function pricesFrom(circuit: string, input: number | undefined, output: number | undefined): LlmPrices | undefined {
  if (input === undefined && output === undefined) return undefined;
  if (input === undefined || output === undefined) {
    throw configError(
      `${circuit}.${input === undefined ? 'input_price_per_mtok' : 'output_price_per_mtok'}`,
      'expected both input_price_per_mtok and output_price_per_mtok, or neither',
    );
  }
  return { inputPerMillion: input, outputPerMillion: output };
}

function configError(path: string, message: string): ConfigError {
  return new ConfigError(`${CONTEXT}: ${path}: ${message}`, [{ path, message }]);
}

// Each call's request, checked before anything reaches a provider.

const messageSchema = z.strictObject(
  {
    role: z.enum(['user', 'assistant'], { error: 'expected "user" or "assistant"' }),
    content: nonEmptyString(),
  },
  anObject('a message { role, content }'),
);

const requestSchema = z
  .strictObject(
    {
      prompt: nonEmptyString().optional(),
      messages: z
        .array(messageSchema, { error: 'expected an array of messages' })
        .min(1, { error: 'expected at least one message' })
        .optional(),
      system: nonEmptyString().optional(),
      maxTokens: positiveInt(),
      temperature: z
        .number({ error: 'expected a number from 0 to 1' })
        .min(0, { error: 'expected a number from 0 to 1' })
        .max(1, { error: 'expected a number from 0 to 1' })
        .optional(),
      cacheKey: nonEmptyString().optional(),
    },
    anObject('a request object'),
  )
  .superRefine((r, ctx) => {
    if ((r.prompt === undefined) === (r.messages === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'expected either prompt or messages' });
    } else if (r.messages && r.messages[0]?.role !== 'user') {
      ctx.addIssue({
        code: 'custom',
        path: ['messages', 0, 'role'],
        message: 'expected the first message from "user"',
      });
    }
  });

export interface CheckedRequest {
  normalized: NormalizedRequest;
  /** True when the answer may be served from the cache: temperature 0, or a `cacheKey`. */
  cacheable: boolean;
  cacheKey: string | undefined;
}

/** Checks a request (LlmArgumentError naming the method and the fields) and normalizes it. */
/** A call's options: checked with the request, so a bad signal is an LlmArgumentError too. */
const callOptionsSchema = z
  .strictObject(
    { signal: signalSchema.optional(), cacheIncomplete: boolean().optional() },
    anObject('an object ({ signal?, cacheIncomplete? })'),
  )
  .optional();

export function checkRequest(method: string, request: LlmRequest, options?: LlmCallOptions): CheckedRequest {
  const parsed = requestSchema.safeParse(request);
  const checked = callOptionsSchema.safeParse(options);
  const issues = [
    ...(parsed.success ? [] : toIssues(parsed.error, request)),
    ...(checked.success ? [] : toIssues(checked.error, options, ['options'])),
  ];
  if (!parsed.success || issues.length > 0) {
    throw new LlmArgumentError(`${method}: ${formatIssues(issues)}`, issues);
  }
  const r = parsed.data;
  const normalized: NormalizedRequest = {
    messages: r.messages ? r.messages.map((m) => ({ ...m })) : [{ role: 'user', content: r.prompt! }],
    maxTokens: r.maxTokens,
    ...(r.system === undefined ? {} : { system: r.system }),
    ...(r.temperature === undefined ? {} : { temperature: r.temperature }),
  };
  return { normalized, cacheable: r.temperature === 0 || r.cacheKey !== undefined, cacheKey: r.cacheKey };
}
