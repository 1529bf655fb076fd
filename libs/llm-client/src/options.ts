import {
  anObject,
  type BreakerConfig,
  type BreakerRegistry,
  boolean,
  breakerOverridesSchema,
  ConfigError,
  durationMs,
  formatIssues,
  loggerSchema,
  nonEmptyString,
  nonNegativeNumber,
  parseOrThrow,
  positiveInt,
  registrySchema,
  toIssues,
} from '@gl-vcci/breaker-core';
import { z } from 'zod';
import { classifyLlmError } from './classify.js';
import { LlmArgumentError } from './errors.js';
import { ANTHROPIC_BASE_URL } from './providers/anthropic.js';
import { OPENAI_BASE_URL } from './providers/openai.js';
import type { NormalizedRequest } from './providers/provider.js';
import type { LlmClientOptions, LlmLogger, LlmPrices, LlmRequest, LlmResponseCache, ProviderName } from './types.js';

const CONTEXT = 'createLlmClient';

export const DEFAULTS = {
  cacheTtlMs: 3_600_000,
  cacheMaxEntries: 1_000,
  /** The SDKs' own per-attempt timeout when the circuit has no `call_timeout`. */
  sdkTimeoutMs: 600_000,
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

/** Stands in for an invalid key in option errors: a key is never echoed, and this one never passes. */
const HIDDEN = '<hidden>';

const httpUrl = () =>
  z.string({ error: 'expected an http(s) URL' }).refine(
    (url) => {
      try {
        return ['http:', 'https:'].includes(new URL(url).protocol);
      } catch {
        return false;
      }
    },
    { error: 'expected an http(s) URL' },
  );

const pricesSchema = z.strictObject(
  { inputPerMillion: nonNegativeNumber(), outputPerMillion: nonNegativeNumber() },
  anObject('an object of prices in USD per million tokens'),
);

const providerSchema = z.strictObject(
  {
    apiKey: nonEmptyString()
      .refine((key) => key !== HIDDEN, { error: 'expected a non-empty string' })
      .optional(),
    baseURL: httpUrl().optional(),
    model: nonEmptyString().optional(),
    prices: pricesSchema.optional(),
    breaker: breakerOverridesSchema.optional(),
  },
  anObject('an object of provider settings'),
);

const cacheSchema = z.custom<LlmResponseCache>(
  (c) =>
    c === false ||
    (typeof (c as LlmResponseCache | null)?.get === 'function' && typeof (c as LlmResponseCache).set === 'function'),
  { error: 'expected a store with get(key) and set(key, value, ttlMs), or false' },
);

const optionsSchema = z.strictObject(
  {
    providers: z
      .strictObject(
        { claude: providerSchema.optional(), openai: providerSchema.optional() },
        anObject('an object with claude and/or openai'),
      )
      .refine((p) => p.claude !== undefined || p.openai !== undefined, { error: 'expected at least one provider' }),
    registry: registrySchema,
    cache: z.union([z.literal(false), cacheSchema]).optional(),
    cacheTtlMs: durationMs().optional(),
    cacheMaxEntries: positiveInt().optional(),
    stream: z
      .strictObject(
        { firstTokenTimeoutMs: durationMs().optional(), idleTimeoutMs: durationMs().optional() },
        anObject('an object of stream deadlines'),
      )
      .optional(),
    logger: loggerSchema.optional(),
  },
  anObject('an object of options'),
);

/** The client-owned keys of a provider's config block; the breaker's keys are breaker-core's. */
const settingsSchema = z.looseObject({
  primary: boolean().optional(),
  model: nonEmptyString().optional(),
  input_price_per_mtok: nonNegativeNumber().optional(),
  output_price_per_mtok: nonNegativeNumber().optional(),
});

export interface ResolvedProvider {
  name: ProviderName;
  circuit: string;
  model: string;
  apiKey: string;
  baseURL: string;
  prices: LlmPrices | undefined;
  primary: boolean;
  sdkTimeoutMs: number;
  breakerOverrides: Partial<Omit<BreakerConfig, 'name'>>;
}

export interface ResolvedOptions {
  registry: BreakerRegistry;
  logger: LlmLogger;
  /** In the order they are tried: the primary first. */
  providers: ResolvedProvider[];
  cache: LlmResponseCache | false | undefined;
  cacheTtlMs: number;
  cacheMaxEntries: number;
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
}

/**
 * Validates createLlmClient's options once (a ConfigError naming every bad field, never echoing
 * a key) and settles every default from the providers' config blocks.
 */
export function resolveOptions(input: LlmClientOptions, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const o = parseOrThrow(optionsSchema, withHiddenKeys(input), CONTEXT) as LlmClientOptions;
  const providers: ResolvedProvider[] = [];
  for (const name of ['claude', 'openai'] as const) {
    const given = o.providers[name];
    if (!given) continue;
    const defaults = PROVIDERS[name];
    const settings = parseOrThrow(
      z.object({ [defaults.circuit]: settingsSchema }),
      { [defaults.circuit]: o.registry.settings(defaults.circuit) },
      CONTEXT,
    )[defaults.circuit] as z.output<typeof settingsSchema>;
    const apiKey = given.apiKey ?? env[defaults.env];
    if (!apiKey) {
      throw configError(`providers.${name}.apiKey`, `expected a key, or ${defaults.env} in the environment`);
    }
    const callTimeoutMs =
      given.breaker?.callTimeoutMs ??
      (typeof settings.call_timeout === 'number' ? Math.round(settings.call_timeout * 1000) : undefined);
    providers.push({
      name,
      circuit: defaults.circuit,
      model: given.model ?? settings.model ?? defaults.model,
      apiKey,
      baseURL: given.baseURL ?? defaults.baseURL,
      prices: given.prices ?? pricesFrom(defaults.circuit, settings),
      primary: settings.primary === true,
      // At or past the breaker's deadline, so the breaker's fires first.
      sdkTimeoutMs: callTimeoutMs === undefined ? DEFAULTS.sdkTimeoutMs : callTimeoutMs + 1_000,
      breakerOverrides: { ...given.breaker, classify: classifyLlmError },
    });
  }
  const primaries = providers.filter((p) => p.primary);
  if (primaries.length > 1) {
    throw configError(
      primaries.map((p) => `${p.circuit}.primary`).join(', '),
      'expected at most one provider with primary: true',
    );
  }
  // The primary first; without one, claude then openai.
  providers.sort((a, b) => Number(b.primary) - Number(a.primary));
  const primaryTtl = o.registry.settings(providers[0]!.circuit).cache_ttl;
  return {
    registry: o.registry,
    logger: o.logger ?? o.registry.logger,
    providers,
    cache: o.cache,
    cacheTtlMs: o.cacheTtlMs ?? (typeof primaryTtl === 'number' ? Math.round(primaryTtl * 1000) : DEFAULTS.cacheTtlMs),
    cacheMaxEntries: o.cacheMaxEntries ?? DEFAULTS.cacheMaxEntries,
    firstTokenTimeoutMs: o.stream?.firstTokenTimeoutMs ?? DEFAULTS.firstTokenTimeoutMs,
    idleTimeoutMs: o.stream?.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
  };
}

function pricesFrom(circuit: string, settings: z.output<typeof settingsSchema>): LlmPrices | undefined {
  const input = settings.input_price_per_mtok;
  const output = settings.output_price_per_mtok;
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

/** A bad key is named in the error but never shown: it is replaced by a value that fails the same check. */
function withHiddenKeys(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const providers = (input as { providers?: unknown }).providers;
  if (typeof providers !== 'object' || providers === null) return input;
  const hidden: Record<string, unknown> = { ...providers };
  for (const [name, settings] of Object.entries(providers)) {
    if (typeof settings !== 'object' || settings === null || !('apiKey' in settings)) continue;
    const key = (settings as { apiKey?: unknown }).apiKey;
    if (key !== undefined && (typeof key !== 'string' || key === '')) hidden[name] = { ...settings, apiKey: HIDDEN };
  }
  return { ...input, providers: hidden };
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
  /** The cache key when the request may be answered from the cache. */
  cacheable: boolean;
  cacheKey: string | undefined;
}

/** Checks a request (LlmArgumentError naming the method and the fields) and normalizes it. */
export function checkRequest(method: string, request: LlmRequest): CheckedRequest {
  const parsed = requestSchema.safeParse(request);
  if (!parsed.success) {
    throw new LlmArgumentError(`${method}: ${formatIssues(toIssues(parsed.error, request))}`);
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
