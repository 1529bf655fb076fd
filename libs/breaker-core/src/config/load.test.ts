import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../errors.js';
import { resolveBreakerConfig } from '../options.js';
import { loadConfig, settingsFor } from './load.js';
import { ENVIRONMENTS, toBreakerConfig } from './schema.js';

const SHIPPED = fileURLToPath(new URL('../../../../config/circuit_breaker_config.yaml', import.meta.url));

/** YAML text written indented in the test; the common indentation is removed. */
function yaml(strings: TemplateStringsArray): string {
  const lines = strings.raw.join('').replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

function errorOf(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const messageOf = (load: () => unknown) => errorOf(load).message;

const MiB = 1_048_576;

const SEED = yaml`
  factor_broker:
    ecoinvent:
      enabled: true
      fail_max: 5
      timeout_duration: 60
      reset_timeout: 60
      cache_ttl: 86400
      primary: true
  erp_connectors:
    sap:
      connection_pool_size: 10
  email_service:
    sendgrid:
      queue_enabled: true
      queue_dir: ./data/email_queue
`;

const LAYERED = yaml`
  global:
    defaults:
      fail_max: 1
      timeout_duration: 1
      call_timeout: 1
      trial_timeout: 1
  factor_broker:
    ecoinvent:
      call_timeout: 3
      trial_timeout: 3
    epa: {}
  environments:
    production:
      global:
        defaults:
          timeout_duration: 2
          call_timeout: 2
          trial_timeout: 2
      factor_broker:
        ecoinvent:
          trial_timeout: 4
`;

beforeEach(() => {
  vi.stubEnv('GL_VCCI_ENV', undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the shipped config/circuit_breaker_config.yaml', () => {
  it.each(ENVIRONMENTS)('loads in %s and every service maps to a valid BreakerConfig', (environment) => {
    const config = loadConfig(SHIPPED, { environment });

    expect(config.environment).toBe(environment);
    expect(config.source).toBe(SHIPPED);
    for (const [name, settings] of Object.entries(config.services)) {
      expect(() => resolveBreakerConfig(toBreakerConfig(name, settings))).not.toThrow();
    }
  });

  it('lists every service of the six dependencies', () => {
    expect(Object.keys(loadConfig(SHIPPED).services)).toEqual([
      'factor_broker.ecoinvent',
      'factor_broker.desnz',
      'factor_broker.epa',
      'llm_providers.claude',
      'llm_providers.openai',
      'erp_connectors.sap',
      'erp_connectors.oracle',
      'erp_connectors.workday',
      'email_service.sendgrid',
      'database.postgres',
      'database.postgres_replica',
      'cache.redis',
    ]);
  });
});

describe('open_on_retry_after in the shipped file', () => {
  it.each(ENVIRONMENTS)('opens the LLM and factor circuits on Retry-After in %s, and no other', (environment) => {
    const { services } = loadConfig(SHIPPED, { environment });
    const opening = Object.entries(services)
      .filter(([name, settings]) => toBreakerConfig(name, settings).openOnRetryAfter)
      .map(([name]) => name);

    expect(opening).toEqual([
      'factor_broker.ecoinvent',
      'factor_broker.desnz',
      'factor_broker.epa',
      'llm_providers.claude',
      'llm_providers.openai',
    ]);
  });
});

describe('the platform seed format', () => {
  it('loads a file holding only the original keys, as it is', () => {
    expect(loadConfig(SEED).services['factor_broker.ecoinvent']).toEqual({
      enabled: true,
      fail_max: 5,
      timeout_duration: 60,
      reset_timeout: 60,
      cache_ttl: 86400,
      primary: true,
    });
  });

  it('maps fail_max 5, timeout_duration 60, reset_timeout 60 to failMax 5, openDurationMs 60000, a 60 s window', () => {
    const settings = settingsFor(loadConfig(SEED), 'factor_broker.ecoinvent');

    expect(toBreakerConfig('factor_broker.ecoinvent', settings)).toEqual({
      name: 'factor_broker.ecoinvent',
      failMax: 5,
      openDurationMs: 60_000,
      slidingWindow: { kind: 'time', seconds: 60 },
    });
  });

  it('keeps the client-owned keys for the clients', () => {
    const config = loadConfig(SEED);

    expect(config.services['erp_connectors.sap']).toEqual({ connection_pool_size: 10 });
    expect(config.services['email_service.sendgrid']).toEqual({ queue_enabled: true, queue_dir: './data/email_queue' });
  });
});

describe('choosing the environment', () => {
  const text = yaml`
    cache:
      redis: {}
    environments:
      staging:
        cache:
          redis: { fail_max: 2 }
      production:
        cache:
          redis: { fail_max: 3 }
  `;

  it('is development when neither the option nor GL_VCCI_ENV is set', () => {
    const config = loadConfig(text);

    expect(config.environment).toBe('development');
    expect(config.services['cache.redis']).toEqual({});
  });

  it('follows GL_VCCI_ENV', () => {
    vi.stubEnv('GL_VCCI_ENV', 'staging');

    expect(loadConfig(text).services['cache.redis']).toEqual({ fail_max: 2 });
  });

  it('follows the environment option over GL_VCCI_ENV', () => {
    vi.stubEnv('GL_VCCI_ENV', 'staging');

    expect(loadConfig(text, { environment: 'production' }).services['cache.redis']).toEqual({ fail_max: 3 });
  });

  it('rejects an unknown GL_VCCI_ENV value, naming the variable', () => {
    vi.stubEnv('GL_VCCI_ENV', 'prod');

    expect(messageOf(() => loadConfig(text))).toBe(
      'GL_VCCI_ENV: expected one of development, staging, production, got "prod"',
    );
  });

  it('rejects an unknown environment option, naming the option', () => {
    expect(messageOf(() => loadConfig(text, { environment: 'qa' }))).toBe(
      'environment: expected one of development, staging, production, got "qa"',
    );
  });
});

describe('merge order', () => {
  const production = () => loadConfig(LAYERED, { environment: 'production' });

  it('gives a service the global defaults it does not set', () => {
    expect(production().services['factor_broker.ecoinvent']?.fail_max).toBe(1);
  });

  it("lets the environment's global defaults override the global defaults", () => {
    expect(production().services['factor_broker.ecoinvent']?.timeout_duration).toBe(2);
  });

  it("lets a service's own key override the environment's global defaults", () => {
    expect(production().services['factor_broker.ecoinvent']?.call_timeout).toBe(3);
  });

  it("lets the environment's service block override the service's own key", () => {
    expect(production().services['factor_broker.ecoinvent']?.trial_timeout).toBe(4);
  });

  it("applies no environment's overrides in an environment that has none", () => {
    expect(loadConfig(LAYERED, { environment: 'staging' }).services['factor_broker.ecoinvent']).toEqual({
      fail_max: 1,
      timeout_duration: 1,
      call_timeout: 3,
      trial_timeout: 3,
    });
  });

  it("reports as defaults the global defaults merged with the environment's", () => {
    expect(production().defaults).toEqual({ fail_max: 1, timeout_duration: 2, call_timeout: 2, trial_timeout: 2 });
  });

  it('gives a service with an empty block the defaults', () => {
    const config = production();

    expect(config.services['factor_broker.epa']).toEqual(config.defaults);
  });

  it('treats a service block with no value as empty', () => {
    expect(loadConfig('cache:\n  redis:\n').services).toEqual({ 'cache.redis': {} });
  });

  it('gives a service the file does not list the defaults', () => {
    const config = production();

    expect(settingsFor(config, 'cache.memcached')).toBe(config.defaults);
  });
});

describe('window choice across levels', () => {
  it("lets a service's window_calls replace an inherited reset_timeout", () => {
    const config = loadConfig('global:\n  defaults: { reset_timeout: 60 }\ncache:\n  redis: { window_calls: 100 }\n');

    expect(config.services['cache.redis']).toEqual({ window_calls: 100 });
  });

  it("lets a service's reset_timeout replace an inherited window_calls", () => {
    const config = loadConfig('global:\n  defaults: { window_calls: 100 }\ncache:\n  redis: { reset_timeout: 30 }\n');

    expect(config.services['cache.redis']).toEqual({ reset_timeout: 30 });
  });

  it("lets an environment's service block replace the service's window", () => {
    const text = yaml`
      cache:
        redis: { window_calls: 100 }
      environments:
        production:
          cache:
            redis: { reset_timeout: 30 }
    `;

    expect(loadConfig(text, { environment: 'production' }).services['cache.redis']).toEqual({ reset_timeout: 30 });
  });

  it('rejects window_calls and reset_timeout in one block, naming both', () => {
    expect(messageOf(() => loadConfig('cache:\n  redis: { window_calls: 100, reset_timeout: 30 }\n'))).toBe(
      '<text>: cache.redis: expected one of window_calls (count window) or reset_timeout (time window), got both',
    );
  });
});

describe('the file structure', () => {
  it('rejects an environment override naming a service absent from the base file', () => {
    const text = yaml`
      factor_broker:
        ecoinvent: {}
      environments:
        production:
          factor_broker:
            ecoinvnt: { fail_max: 3 }
    `;

    expect(messageOf(() => loadConfig(text))).toBe(
      '<text>: environments.production.factor_broker.ecoinvnt: no such service in the base configuration',
    );
  });

  it('rejects an environment override naming a group absent from the base file', () => {
    const text = 'factor_broker:\n  epa: {}\nenvironments:\n  staging:\n    factor_brokers:\n      epa: {}\n';

    expect(messageOf(() => loadConfig(text))).toBe(
      '<text>: environments.staging.factor_brokers: no such group in the base configuration',
    );
  });

  it('rejects an environment that is not development, staging or production', () => {
    expect(messageOf(() => loadConfig('environments:\n  prod: {}\n'))).toBe(
      '<text>: environments.prod: expected one of development, staging, production, got "prod"',
    );
  });

  it('rejects a service block that is not a mapping', () => {
    expect(messageOf(() => loadConfig('factor_broker:\n  ecoinvent: 5\n'))).toBe(
      '<text>: factor_broker.ecoinvent: expected a mapping of service settings, got 5',
    );
  });

  it('rejects a group that is not a mapping', () => {
    expect(messageOf(() => loadConfig('email_service: sendgrid\n'))).toBe(
      '<text>: email_service: expected a mapping of services, got "sendgrid"',
    );
  });

  it('rejects a root that is not a mapping', () => {
    expect(messageOf(() => loadConfig('- a\n- b\n'))).toBe(
      '<text>: (root): expected a mapping of global, environments and service groups, got an array of 2',
    );
  });

  it('rejects a key under global other than defaults', () => {
    expect(messageOf(() => loadConfig('global:\n  default: { fail_max: 3 }\n'))).toBe(
      '<text>: global.default: unknown key; global holds only defaults',
    );
  });

  it('checks the overrides of environments other than the one loaded', () => {
    const text = 'cache:\n  redis: {}\nenvironments:\n  production:\n    cache:\n      redis: { fail_max: 0 }\n';

    expect(messageOf(() => loadConfig(text, { environment: 'development' }))).toBe(
      '<text>: environments.production.cache.redis.fail_max: expected a positive integer, or .inf to trip on the rates alone, got 0',
    );
  });
});

describe('rules across merged levels', () => {
  it('rejects enabled false with a mode other than disabled, listing the environments affected', () => {
    const text = yaml`
      factor_broker:
        ecoinvent: { mode: metrics_only }
      environments:
        production:
          global:
            defaults: { enabled: false }
    `;

    expect(messageOf(() => loadConfig(text))).toBe(
      `<text>: factor_broker.ecoinvent.mode: expected 'disabled' or no mode where enabled is false, got "metrics_only" (in production)`,
    );
  });

  it('accepts enabled false with mode disabled', () => {
    const config = loadConfig('cache:\n  redis: { enabled: false, mode: disabled }\n');

    expect(config.services['cache.redis']).toEqual({ enabled: false, mode: 'disabled' });
  });

  it('rejects a max_open_duration shorter than timeout_duration', () => {
    const text = 'global:\n  defaults: { max_open_duration: 300 }\ncache:\n  redis: { timeout_duration: 600 }\n';

    expect(messageOf(() => loadConfig(text))).toBe(
      '<text>: cache.redis.max_open_duration: expected at least timeout_duration (600), got 300 (in development, staging, production)',
    );
  });
});

describe('reading the source', () => {
  it('reads a file path and names it as the source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'breaker-config-'));
    try {
      const path = join(dir, 'circuit_breaker_config.yaml');
      writeFileSync(path, SEED);

      expect(loadConfig(path).source).toBe(path);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('starts the message of a bad file with its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'breaker-config-'));
    try {
      const path = join(dir, 'bad.yaml');
      writeFileSync(path, 'cache:\n  redis: { fail_max: -3 }\n');

      expect(messageOf(() => loadConfig(path))).toBe(
        `${path}: cache.redis.fail_max: expected a positive integer, or .inf to trip on the rates alone, got -3`,
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('rejects a missing file, naming its path', () => {
    const path = join(tmpdir(), 'gl-vcci-no-such-dir', 'circuit_breaker_config.yaml');
    const error = errorOf(() => loadConfig(path));

    expect(error.message).toBe(`${path}: cannot read the configuration file: no such file`);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('rejects a file over 1 MiB before parsing it, naming its size and the limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'breaker-config-'));
    try {
      const path = join(dir, 'huge.yaml');
      // Valid YAML: only the size can refuse it. A parse would also fail on the unclosed flow map.
      writeFileSync(path, `${SEED}# ${'x'.repeat(MiB)}\ncache: {`);
      const message = `the configuration file is ${statSync(path).size} bytes, over its limit of 1048576 bytes (1 MiB)`;
      const error = errorOf(() => loadConfig(path));

      expect(error.message).toBe(`${path}: ${message}`);
      expect(error.issues).toEqual([{ path: '', message }]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('rejects YAML text over 1 MiB before parsing it, naming its size and the limit', () => {
    const text = `${SEED}# ${'é'.repeat(MiB / 2)}\ncache: {`;
    expect(messageOf(() => loadConfig(text))).toBe(
      `<text>: the configuration is ${Buffer.byteLength(text)} bytes, over its limit of 1048576 bytes (1 MiB)`,
    );
  });

  it('loads a file of exactly 1 MiB', () => {
    const text = `${SEED}#`;
    const padded = text + 'x'.repeat(MiB - Buffer.byteLength(text));
    expect(Buffer.byteLength(padded)).toBe(MiB);
    expect(loadConfig(padded).services['factor_broker.ecoinvent']).toMatchObject({ fail_max: 5 });
  });

  it('rejects a YAML syntax error with its line and column', () => {
    expect(messageOf(() => loadConfig('cache:\n  redis:\n    fail_max: 3: 4\n'))).toBe(
      '<text>: YAML syntax error at line 3, column 15: Nested mappings are not allowed in compact mappings',
    );
  });

  it('rejects a duplicated key as a YAML error', () => {
    expect(messageOf(() => loadConfig('cache:\n  redis: {}\n  redis: {}\n'))).toBe(
      '<text>: YAML syntax error at line 3, column 3: Map keys must be unique',
    );
  });

  it('refuses at load what the breaker would refuse at its first call, under the YAML key', () => {
    const text =
      'cache:\n  redis: { fail_max: 10, window_calls: 5 }\ndatabase:\n  postgres: { call_timeout: 3000000 }\n';
    expect(messageOf(() => loadConfig(text))).toBe(
      '<text>: cache.redis.fail_max: failMax (10) can never be reached in a window of the last 5 calls (use Infinity to trip on rates only) (in development, staging, production); ' +
        'database.postgres.call_timeout: expected at most 2147483647 ms, got 3000000000 (in development, staging, production)',
    );
  });

  describe('fail_max: .inf', () => {
    it('lets a circuit trip on its rates alone, and names the choice when fail_max is bad', () => {
      const config = loadConfig(
        'cache:\n  redis:\n    window_calls: 200\n    fail_max: .inf\n    failure_rate_threshold: 50\n',
      );
      expect(toBreakerConfig('cache.redis', config.services['cache.redis']!).failMax).toBe(Number.POSITIVE_INFINITY);
      expect(() => loadConfig('cache:\n  redis:\n    fail_max: -1\n')).toThrow(
        'cache.redis.fail_max: expected a positive integer, or .inf to trip on the rates alone, got -1',
      );
    });
  });
});
