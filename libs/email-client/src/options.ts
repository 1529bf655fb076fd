import { type BreakerRegistry, ConfigError, type Issue, type Logger } from '@gl-vcci/breaker-core';
import {
  anObject,
  baseOptions,
  breakerOverridesSchema,
  collectIssues,
  durationMs,
  formatIssues,
  nonEmptyString,
  nonNegativeInt,
  positiveInt,
  registrySchema,
  secretSchema,
  setting,
  toIssues,
  urlSchema,
} from '@gl-vcci/breaker-core/client';
import { z } from 'zod';
import type { Outbox } from './outbox/outbox.js';
import { SENDGRID_BASE_URL } from './sendgrid.js';
import type { EmailBreakerOptions } from './types.js';

const CONTEXT = 'createEmailClient';
export const CIRCUIT = 'email_service.sendgrid';

export const DEFAULTS = {
  /** The circuit's deadline, and the SDK's request timeout, when neither the file (`call_timeout`) nor `breaker.callTimeoutMs` sets one. */
  callTimeoutMs: 10_000,
  queueEnabled: true,
  queueDir: './data/email_queue',
  maxAttempts: 10,
  baseDelayMs: 30_000,
  maxDelayMs: 3_600_000,
  leaseMs: 600_000,
  drainIntervalMs: 300_000,
  concurrency: 4,
} as const;

/** The client-owned keys of the `email_service.sendgrid` block, resolved by the registry. */
export const SETTINGS = {
  queueEnabled: setting.boolean('queue_enabled'),
  queueDir: setting.string('queue_dir'),
  maxAttempts: setting.positiveInt('max_attempts'),
  leaseMs: setting.seconds('claim_lease', { positive: true }),
  drainIntervalMs: setting.seconds('drain_interval'),
};

const outboxSchema = z.custom<Outbox>(
  (o) =>
    ['add', 'due', 'claim', 'complete', 'release'].every(
      (m) => typeof (o as Record<string, unknown> | null)?.[m] === 'function',
    ),
  { error: 'expected an Outbox (add, due, claim, complete, release, …)' },
);

const optionsSchema = z.strictObject(
  {
    ...baseOptions,
    sendgrid: z.strictObject(
      { apiKey: secretSchema('a SendGrid API key'), baseUrl: urlSchema().optional() },
      anObject('an object ({ apiKey, baseUrl? })'),
    ),
    outbox: outboxSchema.optional(),
    queue: z
      .strictObject(
        {
          enabled: z.boolean({ error: 'expected a boolean' }).optional(),
          dir: nonEmptyString().optional(),
          maxAttempts: positiveInt().optional(),
          baseDelayMs: durationMs().optional(),
          maxDelayMs: durationMs().optional(),
          leaseMs: durationMs().optional(),
          drainIntervalMs: nonNegativeInt().max(2_147_483_647).optional(),
          concurrency: positiveInt().max(64).optional(),
        },
        anObject('an object of queue settings'),
      )
      .optional(),
    breaker: breakerOverridesSchema.optional(),
  },
  anObject('an object of options'),
);

export interface ResolvedOptions {
  registry: BreakerRegistry;
  logger: Logger;
  apiKey: string;
  baseUrl: string;
  outbox: Outbox | undefined;
  breaker: EmailBreakerOptions;
  queue: {
    enabled: boolean;
    dir: string;
    maxAttempts: number;
    baseDelayMs: number;
    maxDelayMs: number;
    leaseMs: number;
    drainIntervalMs: number;
    concurrency: number;
  };
}

/**
 * createEmailClient's options and the `email_service.sendgrid` file settings, checked once; every
 * problem in ONE ConfigError. An option beats the file, the file beats the default.
 */
export function resolveOptions(input: unknown): ResolvedOptions {
  const parsed = optionsSchema.safeParse(input);
  const issues: Issue[] = parsed.success ? [] : toIssues(parsed.error, input);
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  // Asked even when the options are bad: the file's errors belong in the same report.
  const registry = registrySchema.safeParse(raw.registry).success ? (raw.registry as BreakerRegistry) : undefined;
  const file: Partial<Record<keyof typeof SETTINGS, unknown>> =
    (registry && collectIssues(issues, () => registry.settings(CIRCUIT, SETTINGS))) ?? {};
  if (!parsed.success || issues.length > 0) throw new ConfigError(`${CONTEXT}: ${formatIssues(issues)}`, issues);
  const o = parsed.data;
  const q = o.queue ?? {};
  const queue = {
    enabled: q.enabled ?? (file.queueEnabled as boolean | undefined) ?? DEFAULTS.queueEnabled,
    dir: q.dir ?? (file.queueDir as string | undefined) ?? DEFAULTS.queueDir,
    maxAttempts: q.maxAttempts ?? (file.maxAttempts as number | undefined) ?? DEFAULTS.maxAttempts,
    baseDelayMs: q.baseDelayMs ?? DEFAULTS.baseDelayMs,
    maxDelayMs: q.maxDelayMs ?? DEFAULTS.maxDelayMs,
    leaseMs: q.leaseMs ?? (file.leaseMs as number | undefined) ?? DEFAULTS.leaseMs,
    drainIntervalMs: q.drainIntervalMs ?? (file.drainIntervalMs as number | undefined) ?? DEFAULTS.drainIntervalMs,
    concurrency: q.concurrency ?? DEFAULTS.concurrency,
  };
  // A claim that can expire mid-send lets another drainer send the same mail: the lease must
  // outlast the send's deadline (the circuit's call_timeout, as the breaker will resolve it).
  const { callTimeoutMs } = o.registry.breakerConfig(CIRCUIT, o.breaker ?? {}, {
    callTimeoutMs: DEFAULTS.callTimeoutMs,
  });
  if (callTimeoutMs !== undefined && queue.leaseMs <= callTimeoutMs) {
    const path = q.leaseMs === undefined ? `${CIRCUIT}.claim_lease` : 'queue.leaseMs';
    const message = `expected more than the send's deadline (call_timeout, ${callTimeoutMs} ms), got ${queue.leaseMs} ms`;
    throw new ConfigError(`${CONTEXT}: ${path}: ${message}`, [{ path, message }]);
  }
  return {
    registry: o.registry,
    logger: o.logger ?? o.registry.logger,
    apiKey: o.sendgrid.apiKey,
    baseUrl: o.sendgrid.baseUrl ?? SENDGRID_BASE_URL,
    outbox: o.outbox,
    breaker: (o.breaker ?? {}) as EmailBreakerOptions,
    queue,
  };
}
