import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { resolveBreakerConfig } from '../options.js';
import { loadConfig } from './load.js';
import { mergeSettings, toBreakerConfig } from './schema.js';

/** Loads YAML text and returns the ConfigError it raises. */
function errorOf(text: string): ConfigError {
  try {
    loadConfig(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** The error of a file whose only service is `cache.redis: { <block> }`. */
const errorFor = (block: string) => errorOf(`cache:\n  redis: { ${block} }\n`);

describe('toBreakerConfig', () => {
  it('maps every breaker key, seconds to milliseconds', () => {
    const config = toBreakerConfig('llm_providers.claude', {
      fail_max: 3,
      timeout_duration: 30,
      window_calls: 50,
      failure_rate_threshold: 50,
      minimum_calls: 20,
      slow_call_duration: 2.5,
      slow_call_rate_threshold: 80,
      open_duration_multiplier: 2,
      max_open_duration: 300,
      open_on_retry_after: true,
      half_open_max_calls: 2,
      success_threshold: 3,
      call_timeout: 60,
      trial_timeout: 20,
      critical: true,
      mode: 'metrics_only',
    });

    expect(config).toEqual({
      name: 'llm_providers.claude',
      failMax: 3,
      openDurationMs: 30_000,
      slidingWindow: { kind: 'count', size: 50 },
      failureRateThreshold: 50,
      minimumCalls: 20,
      slowCallDurationMs: 2_500,
      slowCallRateThreshold: 80,
      openDurationMultiplier: 2,
      maxOpenDurationMs: 300_000,
      openOnRetryAfter: true,
      halfOpenMaxCalls: 2,
      successThreshold: 3,
      callTimeoutMs: 60_000,
      trialTimeoutMs: 20_000,
      critical: true,
      mode: 'metrics_only',
    });
    expect(() => resolveBreakerConfig(config)).not.toThrow();
  });

  it('maps reset_timeout to a time window of that many seconds', () => {
    expect(toBreakerConfig('cache.redis', { reset_timeout: 30 }).slidingWindow).toEqual({ kind: 'time', seconds: 30 });
  });

  it('sets only the fields whose keys are set', () => {
    expect(toBreakerConfig('cache.redis', {})).toStrictEqual({ name: 'cache.redis' });
  });

  it('leaves client-owned and unknown keys out', () => {
    const settings = {
      cache_ttl: 60,
      primary: true,
      connection_pool_size: 5,
      queue_enabled: true,
      queue_dir: 'q',
      x: 1,
    };

    expect(toBreakerConfig('erp_connectors.sap', settings)).toStrictEqual({ name: 'erp_connectors.sap' });
  });

  it('turns enabled false into mode disabled', () => {
    expect(toBreakerConfig('cache.redis', { enabled: false }).mode).toBe('disabled');
  });

  it('sets no mode for enabled true', () => {
    expect(toBreakerConfig('cache.redis', { enabled: true })).toStrictEqual({ name: 'cache.redis' });
  });

  it('converts decimal seconds to whole milliseconds without float noise', () => {
    expect(toBreakerConfig('cache.redis', { call_timeout: 1.005, timeout_duration: 0.5 })).toMatchObject({
      callTimeoutMs: 1005,
      openDurationMs: 500,
    });
  });
});

describe('mergeSettings', () => {
  it('lets later blocks win key by key', () => {
    expect(mergeSettings({ fail_max: 1, call_timeout: 1 }, undefined, { fail_max: 2 })).toEqual({
      fail_max: 2,
      call_timeout: 1,
    });
  });

  it('treats the two window keys as one choice', () => {
    expect(mergeSettings({ reset_timeout: 60, fail_max: 1 }, { window_calls: 10 })).toEqual({
      window_calls: 10,
      fail_max: 1,
    });
  });
});

describe('validation of service keys', () => {
  it('keeps unknown keys as they are, unvalidated', () => {
    const config = loadConfig('cache:\n  redis: { fail_max: 2, key_prefix: -1, tls: { ca: x } }\n');

    expect(config.services['cache.redis']).toEqual({ fail_max: 2, key_prefix: -1, tls: { ca: 'x' } });
  });

  it('names a negative fail_max with its full path', () => {
    const text = 'factor_broker:\n  ecoinvent:\n    fail_max: -3\n';

    expect(errorOf(text).message).toBe(
      '<text>: factor_broker.ecoinvent.fail_max: expected a positive integer, or .inf to trip on the rates alone, got -3',
    );
  });

  it('names a string where a number is expected, in an environment override', () => {
    const text =
      'cache:\n  redis: {}\nenvironments:\n  production:\n    cache:\n      redis:\n        call_timeout: fast\n';
    expect(errorOf(text).message).toBe(
      '<text>: environments.production.cache.redis.call_timeout: expected a positive number, got "fast"',
    );
  });

  it('names a mode that is not metrics_only, forced_open or disabled', () => {
    expect(errorFor('mode: off').message).toBe(
      `<text>: cache.redis.mode: expected 'metrics_only', 'forced_open' or 'disabled', got "off"`,
    );
  });

  it('names a percentage outside (0, 100]', () => {
    expect(errorFor('failure_rate_threshold: 150').message).toBe(
      '<text>: cache.redis.failure_rate_threshold: expected a percentage in (0, 100], got 150',
    );
  });

  it('names a reset_timeout that is not whole seconds', () => {
    expect(errorFor('reset_timeout: 0.5').message).toBe(
      '<text>: cache.redis.reset_timeout: expected a positive integer, got 0.5',
    );
  });

  it('names a reset_timeout longer than the window the breaker keeps', () => {
    expect(errorFor('reset_timeout: 100000').message).toBe(
      '<text>: cache.redis.reset_timeout: expected at most 86400 seconds, got 100000',
    );
  });

  it('names an open_duration_multiplier below 1', () => {
    expect(errorFor('open_duration_multiplier: 0.5').message).toBe(
      '<text>: cache.redis.open_duration_multiplier: expected a number >= 1, got 0.5',
    );
  });

  it('names a boolean key given a string', () => {
    expect(errorFor('enabled: "no"').message).toBe('<text>: cache.redis.enabled: expected true or false, got "no"');
  });

  it('names an open_on_retry_after that is not a boolean', () => {
    expect(errorFor('open_on_retry_after: "yes"').message).toBe(
      '<text>: cache.redis.open_on_retry_after: expected true or false, got "yes"',
    );
  });

  it('names a negative cache_ttl', () => {
    expect(errorFor('cache_ttl: -1').message).toBe(
      '<text>: cache.redis.cache_ttl: expected a non-negative number, got -1',
    );
  });

  it('names an empty queue_dir', () => {
    expect(errorFor('queue_dir: ""').message).toBe(
      '<text>: cache.redis.queue_dir: expected a non-empty string, got ""',
    );
  });

  it('lists every bad key of the file in one error', () => {
    const text = 'global:\n  defaults: { fail_max: 0 }\ncache:\n  redis: { call_timeout: -1, mode: on }\n';
    const error = errorOf(text);

    expect(error.issues).toEqual([
      {
        path: 'global.defaults.fail_max',
        message: 'expected a positive integer, or .inf to trip on the rates alone, got 0',
      },
      { path: 'cache.redis.call_timeout', message: 'expected a positive number, got -1' },
      { path: 'cache.redis.mode', message: `expected 'metrics_only', 'forced_open' or 'disabled', got "on"` },
    ]);
    expect(error.message).toBe(
      `<text>: global.defaults.fail_max: expected a positive integer, or .inf to trip on the rates alone, got 0; cache.redis.call_timeout: expected a positive number, got -1; cache.redis.mode: expected 'metrics_only', 'forced_open' or 'disabled', got "on"`,
    );
  });
});
