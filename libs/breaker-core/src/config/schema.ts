import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { type BreakerConfig, resolveBreakerConfig } from '../options.js';
import { boolean, nonEmptyString, nonNegativeNumber, percentage, positiveInt, positiveNumber } from '../validation.js';

export const ENVIRONMENTS = ['development', 'staging', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

const MODES = ['metrics_only', 'forced_open', 'disabled'] as const;

// The same caps as resolveBreakerConfig's, in the file's units; mergedIssues checks the rest with it.
const MAX_WINDOW_SECONDS = 86_400;
const MAX_WINDOW_CALLS = 1_000_000;

/**
 * One service block (or a `global.defaults` block) of circuit_breaker_config.yaml. Durations are
 * SECONDS, rates percentages. Keys not listed belong to the clients and pass through unchecked.
 */
export const serviceSettingsSchema = z.looseObject({
  // The platform's original keys: a file with only these loads unchanged.
  /** false: the circuit is built in mode 'disabled' (calls pass, nothing is counted). */
  enabled: boolean().optional(),
  /** Failures in the window that trip the circuit; `.inf`: trip on the rates alone. */
  fail_max: z
    .custom<number>((v) => v === Number.POSITIVE_INFINITY || (Number.isInteger(v) && (v as number) > 0), {
      error: 'expected a positive integer, or .inf to trip on the rates alone',
    })
    .optional(),
  /** Seconds the circuit stays open before a trial call. */
  timeout_duration: positiveNumber().optional(),
  /** Seconds of the time-based failure window. */
  reset_timeout: positiveInt()
    .max(MAX_WINDOW_SECONDS, { error: `expected at most ${MAX_WINDOW_SECONDS} seconds` })
    .optional(),
  /** Client-owned: seconds a cached answer stays fresh. */
  cache_ttl: nonNegativeNumber().optional(),
  /** Client-owned: this upstream is tried first. */
  primary: boolean().optional(),
  /** Client-owned. */
  connection_pool_size: positiveInt().optional(),
  /** Client-owned: queue work while the circuit is open. */
  queue_enabled: boolean().optional(),
  /** Client-owned: where the queue is kept. */
  queue_dir: nonEmptyString().optional(),

  /** Calls of the count-based failure window (instead of reset_timeout). */
  window_calls: positiveInt()
    .max(MAX_WINDOW_CALLS, { error: `expected at most ${MAX_WINDOW_CALLS} calls` })
    .optional(),
  failure_rate_threshold: percentage().optional(),
  minimum_calls: positiveInt().optional(),
  /** Seconds from which a call counts as slow. */
  slow_call_duration: positiveNumber().optional(),
  slow_call_rate_threshold: percentage().optional(),
  open_duration_multiplier: z
    .number({ error: 'expected a number >= 1' })
    .gte(1, { error: 'expected a number >= 1' })
    .optional(),
  /** Seconds: cap on the grown or Retry-After open duration. */
  max_open_duration: positiveNumber().optional(),
  /** A failure carrying Retry-After opens the circuit at once for that long (capped by max_open_duration). */
  open_on_retry_after: boolean().optional(),
  half_open_max_calls: positiveInt().optional(),
  success_threshold: positiveInt().optional(),
  /** Seconds: deadline of every call. */
  call_timeout: positiveNumber().optional(),
  /** Seconds: deadline of a half-open trial when call_timeout is not set. */
  trial_timeout: positiveNumber().optional(),
  critical: boolean().optional(),
  mode: z.enum(MODES, { error: "expected 'metrics_only', 'forced_open' or 'disabled'" }).optional(),
});

export type ServiceSettings = z.output<typeof serviceSettingsSchema>;

/**
 * Merges blocks from least to most specific, key by key (shallow). The two window keys are one
 * choice: a block that sets either replaces the window it inherited, whichever kind that was.
 */
export function mergeSettings(...layers: ReadonlyArray<ServiceSettings | undefined>): ServiceSettings {
  let merged: ServiceSettings = {};
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (layer.window_calls !== undefined || layer.reset_timeout !== undefined) {
      const { window_calls: _count, reset_timeout: _time, ...rest } = merged;
      merged = rest;
    }
    merged = { ...merged, ...layer };
  }
  return merged;
}

/** Rules that hold between keys of one block; the key each problem is reported under. */
export function blockIssues(settings: ServiceSettings): Array<{ key: string; message: string }> {
  if (settings.window_calls !== undefined && settings.reset_timeout !== undefined) {
    return [
      {
        key: '',
        message: `expected one of window_calls (count window) or reset_timeout (time window), got both`,
      },
    ];
  }
  return [];
}

/**
 * Rules that hold once the levels are merged, whichever level each key came from: the YAML-only
 * ones here, then everything the breaker itself would refuse (resolveBreakerConfig), reported
 * under the YAML key, so a bad file fails at load and not at the first call.
 */
export function mergedIssues(settings: ServiceSettings): Array<{ key: string; message: string }> {
  const issues: Array<{ key: string; message: string }> = [];
  if (settings.enabled === false && settings.mode !== undefined && settings.mode !== 'disabled') {
    issues.push({
      key: 'mode',
      message: `expected 'disabled' or no mode where enabled is false, got ${JSON.stringify(settings.mode)}`,
    });
  }
  const { max_open_duration: max, timeout_duration: open } = settings;
  if (max !== undefined && open !== undefined && max < open) {
    issues.push({ key: 'max_open_duration', message: `expected at least timeout_duration (${open}), got ${max}` });
  }
  try {
    resolveBreakerConfig(toBreakerConfig('check', settings));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) {
      const field = issue.path.split('.')[0] ?? '';
      const window = settings.window_calls !== undefined ? 'window_calls' : 'reset_timeout';
      const key = field === 'slidingWindow' ? window : (YAML_KEY[field as keyof typeof YAML_KEY] ?? field);
      // A YAML rule above already said it in the file's own terms.
      if (!issues.some((i) => i.key === key)) issues.push({ key, message: issue.message });
    }
  }
  return issues;
}

/** The YAML key each BreakerConfig field comes from (see toBreakerConfig). */
const YAML_KEY = {
  failMax: 'fail_max',
  failureRateThreshold: 'failure_rate_threshold',
  minimumCalls: 'minimum_calls',
  slowCallDurationMs: 'slow_call_duration',
  slowCallRateThreshold: 'slow_call_rate_threshold',
  openDurationMs: 'timeout_duration',
  openDurationMultiplier: 'open_duration_multiplier',
  maxOpenDurationMs: 'max_open_duration',
  openOnRetryAfter: 'open_on_retry_after',
  halfOpenMaxCalls: 'half_open_max_calls',
  successThreshold: 'success_threshold',
  callTimeoutMs: 'call_timeout',
  trialTimeoutMs: 'trial_timeout',
  critical: 'critical',
  mode: 'mode',
} as const;

/** Maps merged settings to the breaker's options (ms); only the keys that are set appear. */
export function toBreakerConfig(name: string, settings: ServiceSettings): BreakerConfig {
  const s = settings;
  const config: BreakerConfig = { name };
  const mode = s.enabled === false ? 'disabled' : s.mode;
  const set = <K extends keyof BreakerConfig>(key: K, value: BreakerConfig[K] | undefined) => {
    if (value !== undefined) config[key] = value;
  };
  set('failMax', s.fail_max);
  // After a load only one window key survives; a hand-built object with both gets the newer key.
  if (s.window_calls !== undefined) config.slidingWindow = { kind: 'count', size: s.window_calls };
  else if (s.reset_timeout !== undefined) config.slidingWindow = { kind: 'time', seconds: s.reset_timeout };
  set('failureRateThreshold', s.failure_rate_threshold);
  set('minimumCalls', s.minimum_calls);
  set('slowCallDurationMs', secondsToMs(s.slow_call_duration));
  set('slowCallRateThreshold', s.slow_call_rate_threshold);
  set('openDurationMs', secondsToMs(s.timeout_duration));
  set('openDurationMultiplier', s.open_duration_multiplier);
  set('maxOpenDurationMs', secondsToMs(s.max_open_duration));
  set('openOnRetryAfter', s.open_on_retry_after);
  set('halfOpenMaxCalls', s.half_open_max_calls);
  set('successThreshold', s.success_threshold);
  set('callTimeoutMs', secondsToMs(s.call_timeout));
  set('trialTimeoutMs', secondsToMs(s.trial_timeout));
  set('critical', s.critical);
  set('mode', mode);
  return config;
}

/**
 * The one conversion of the file's seconds to milliseconds, rounded to the microsecond so 1.005 s
 * gives 1005 ms, not 1004.9999999999999.
 */
export function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.round(seconds * 1_000_000) / 1_000;
}
