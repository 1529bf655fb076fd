import { z } from 'zod';
import type { Clock } from './clock.js';
import { ConfigError } from './errors.js';
import type { Classification } from './types.js';
import {
  boolean,
  clockSchema,
  fnSchema,
  MAX_TIMER_MS,
  nonEmptyString,
  parseOrThrow,
  percentage,
  positiveInt,
  positiveNumber,
} from './validation.js';

export type SlidingWindowConfig = { kind: 'count'; size: number } | { kind: 'time'; seconds: number };

/** Options of one circuit. Durations are milliseconds; rates are percentages (0–100]. */
export interface BreakerConfig {
  name: string;
  /** Trip when this many failures are in the window (default 5; `Infinity` trips on rates only). */
  failMax?: number;
  /** Which calls count: the last `size` calls, or the last `seconds` seconds (default time, 60 s). */
  slidingWindow?: SlidingWindowConfig;
  /** Trip when failures / calls ≥ this percentage, once `minimumCalls` are in the window (default off). */
  failureRateThreshold?: number;
  /** Calls needed in the window before rates are judged (default 10). */
  minimumCalls?: number;
  /** A call taking at least this long is slow (default off). */
  slowCallDurationMs?: number;
  /** Trip when slow calls / calls ≥ this percentage, once `minimumCalls` are in the window (default 100). */
  slowCallRateThreshold?: number;
  /** Time open before trial calls are let through (default 60 000). */
  openDurationMs?: number;
  /** Each consecutive trip multiplies the open duration by this (default 1: no growth). */
  openDurationMultiplier?: number;
  /** Cap on the open duration, whether grown or asked for by Retry-After (default 600 000). */
  maxOpenDurationMs?: number;
  /**
   * A failure carrying `retryAfterMs` (HTTP 429/503 Retry-After) opens the circuit at once for that
   * long, capped by `maxOpenDurationMs`, instead of only counting as one failure (default false).
   */
  openOnRetryAfter?: boolean;
  /** Concurrent trial calls in half-open; the rest are rejected at once (default 1). */
  halfOpenMaxCalls?: number;
  /** Trial successes that close the circuit (default 1). */
  successThreshold?: number;
  /** Deadline of every call: its AbortSignal fires and the call fails with TimeoutError (default none). */
  callTimeoutMs?: number;
  /** Deadline of a half-open trial when `callTimeoutMs` is not set, so a hung trial cannot wedge the circuit (default 30 000). */
  trialTimeoutMs?: number;
  /** Decides per error: failure (counts), ignore (the caller's fault: neither), success. Default: failure. */
  classify?: (error: unknown) => Classification;
  /** An open circuit marked critical makes `registry.health()` report `down`. */
  critical?: boolean;
  /** Start in a manual mode instead of closed (e.g. `metrics_only` for a shadow rollout). */
  mode?: 'forced_open' | 'disabled' | 'metrics_only';
  clock?: Clock;
}

export interface ResolvedBreakerConfig {
  readonly name: string;
  readonly failMax: number;
  readonly slidingWindow: SlidingWindowConfig;
  readonly failureRateThreshold: number | undefined;
  readonly minimumCalls: number;
  readonly slowCallDurationMs: number | undefined;
  readonly slowCallRateThreshold: number;
  readonly openDurationMs: number;
  readonly openDurationMultiplier: number;
  readonly maxOpenDurationMs: number;
  readonly openOnRetryAfter: boolean;
  readonly halfOpenMaxCalls: number;
  readonly successThreshold: number;
  readonly callTimeoutMs: number | undefined;
  readonly trialTimeoutMs: number;
  readonly critical: boolean;
  readonly mode: 'forced_open' | 'disabled' | 'metrics_only' | undefined;
}

export const BREAKER_DEFAULTS = {
  failMax: 5,
  slidingWindow: { kind: 'time', seconds: 60 } as SlidingWindowConfig,
  minimumCalls: 10,
  slowCallRateThreshold: 100,
  openDurationMs: 60_000,
  openDurationMultiplier: 1,
  maxOpenDurationMs: 600_000,
  halfOpenMaxCalls: 1,
  successThreshold: 1,
  trialTimeoutMs: 30_000,
} as const;

const schema = z
  .object({
    name: nonEmptyString('a circuit name'),
    failMax: z
      .union([positiveInt(), z.literal(Number.POSITIVE_INFINITY)], { error: 'expected a positive integer or Infinity' })
      .optional(),
    slidingWindow: z
      .discriminatedUnion(
        'kind',
        [
          z.object({
            kind: z.literal('count'),
            size: positiveInt().max(1_000_000, { error: 'expected at most 1000000 calls' }),
          }),
          z.object({
            kind: z.literal('time'),
            seconds: positiveInt().max(86_400, { error: 'expected at most 86400 seconds' }),
          }),
        ],
        { error: "expected { kind: 'count', size } or { kind: 'time', seconds }" },
      )
      .optional(),
    failureRateThreshold: percentage().optional(),
    minimumCalls: positiveInt().optional(),
    slowCallDurationMs: positiveNumber().optional(),
    slowCallRateThreshold: percentage().optional(),
    openDurationMs: positiveNumber().optional(),
    openDurationMultiplier: z
      .number({ error: 'expected a number >= 1' })
      .gte(1, { error: 'expected a number >= 1' })
      .finite()
      .optional(),
    maxOpenDurationMs: positiveNumber().optional(),
    openOnRetryAfter: boolean().optional(),
    halfOpenMaxCalls: positiveInt().optional(),
    successThreshold: positiveInt().optional(),
    callTimeoutMs: positiveNumber()
      .max(MAX_TIMER_MS, { error: `expected at most ${MAX_TIMER_MS} ms` })
      .optional(),
    trialTimeoutMs: positiveNumber()
      .max(MAX_TIMER_MS, { error: `expected at most ${MAX_TIMER_MS} ms` })
      .optional(),
    classify: fnSchema<(error: unknown) => Classification>().optional(),
    critical: boolean().optional(),
    mode: z
      .enum(['forced_open', 'disabled', 'metrics_only'], {
        error: "expected 'forced_open', 'disabled' or 'metrics_only'",
      })
      .optional(),
    clock: clockSchema.optional(),
  })
  .strict();

/** Validates a BreakerConfig and fills in defaults; throws ConfigError naming each bad field. */
export function resolveBreakerConfig(config: BreakerConfig): ResolvedBreakerConfig {
  const who = typeof config?.name === 'string' ? `Circuit "${config.name}"` : 'Circuit';
  const c = parseOrThrow(schema, config, who);
  const openDurationMs = c.openDurationMs ?? BREAKER_DEFAULTS.openDurationMs;
  const maxOpenDurationMs = c.maxOpenDurationMs ?? Math.max(BREAKER_DEFAULTS.maxOpenDurationMs, openDurationMs);
  if (maxOpenDurationMs < openDurationMs) {
    const message = `maxOpenDurationMs (${maxOpenDurationMs}) must be at least openDurationMs (${openDurationMs})`;
    throw new ConfigError(`Circuit "${c.name}": ${message}`, [{ path: 'maxOpenDurationMs', message }]);
  }
  const failMax = c.failMax ?? BREAKER_DEFAULTS.failMax;
  const slidingWindow = c.slidingWindow ?? BREAKER_DEFAULTS.slidingWindow;
  if (slidingWindow.kind === 'count' && failMax !== Number.POSITIVE_INFINITY && failMax > slidingWindow.size) {
    const message = `failMax (${failMax}) can never be reached in a window of the last ${slidingWindow.size} calls (use Infinity to trip on rates only)`;
    throw new ConfigError(`Circuit "${c.name}": ${message}`, [{ path: 'failMax', message }]);
  }
  return {
    name: c.name,
    failMax,
    slidingWindow,
    failureRateThreshold: c.failureRateThreshold,
    // As in resilience4j: a count window can never hold more calls than its size.
    minimumCalls: Math.min(
      c.minimumCalls ?? BREAKER_DEFAULTS.minimumCalls,
      slidingWindow.kind === 'count' ? slidingWindow.size : Number.POSITIVE_INFINITY,
    ),
    slowCallDurationMs: c.slowCallDurationMs,
    slowCallRateThreshold: c.slowCallRateThreshold ?? BREAKER_DEFAULTS.slowCallRateThreshold,
    openDurationMs,
    openDurationMultiplier: c.openDurationMultiplier ?? BREAKER_DEFAULTS.openDurationMultiplier,
    maxOpenDurationMs,
    openOnRetryAfter: c.openOnRetryAfter ?? false,
    halfOpenMaxCalls: c.halfOpenMaxCalls ?? BREAKER_DEFAULTS.halfOpenMaxCalls,
    successThreshold: c.successThreshold ?? BREAKER_DEFAULTS.successThreshold,
    callTimeoutMs: c.callTimeoutMs,
    trialTimeoutMs: c.trialTimeoutMs ?? BREAKER_DEFAULTS.trialTimeoutMs,
    critical: c.critical ?? false,
    mode: c.mode,
  };
}
