import { describe, expect, it } from 'vitest';
import { setting } from './client/settings.js';
import { loadConfig } from './config/load.js';
import { BreakerRegistry } from './registry.js';
import { capturingLogger, ManualClock, silentLogger } from './testing.js';

const FILE = `
global:
  defaults:
    fail_max: 5
    timeout_duration: 60
    reset_timeout: 60
factor_broker:
  ecoinvent:
    fail_max: 3
    cache_ttl: 86400
database:
  postgres:
    critical: true
    connection_pool_size: 20
environments:
  production:
    factor_broker:
      ecoinvent:
        fail_max: 10
`;

function setup(environment = 'development') {
  const clock = new ManualClock(0);
  const registry = new BreakerRegistry({
    config: loadConfig(FILE, { environment }),
    metrics: false,
    logger: silentLogger(),
    clock,
  });
  return { clock, registry };
}

const fail = (registry: BreakerRegistry, name: string) =>
  registry
    .breaker(name)
    .execute(() => Promise.reject(new Error('down')))
    .catch(() => {});

describe('BreakerRegistry', () => {
  it('builds a breaker from its service settings, with the environment’s overrides', () => {
    expect(setup().registry.breaker('factor_broker.ecoinvent').config).toMatchObject({
      failMax: 3,
      openDurationMs: 60_000,
      slidingWindow: { kind: 'time', seconds: 60 },
    });
    expect(setup('production').registry.breaker('factor_broker.ecoinvent').config.failMax).toBe(10);
  });

  it('gives a service the file does not list the global defaults, and warns once that it is not there', () => {
    const { logger, lines } = capturingLogger();
    const registry = new BreakerRegistry({
      config: loadConfig(FILE, { environment: 'development' }),
      metrics: false,
      logger,
    });
    expect(registry.breaker('factor_broker.epa').config.failMax).toBe(5);
    registry.breaker('factor_broker.epa');
    expect(lines.map((l) => [l.msg, l.circuit])).toEqual([
      ['circuit not in the config file: using global defaults', 'factor_broker.epa'],
    ]);
  });

  it('returns the same breaker for the same name', () => {
    const { registry } = setup();
    expect(registry.breaker('cache.redis')).toBe(registry.breaker('cache.redis'));
  });

  it('applies overrides given on creation and refuses different ones later, naming them', () => {
    const registry = new BreakerRegistry({ metrics: false, logger: silentLogger() });
    const classify = () => 'failure' as const;
    expect(registry.breaker('cache.redis', { failMax: 2, classify }).config.failMax).toBe(2);
    expect(registry.breaker('cache.redis', { failMax: 2, classify })).toBe(registry.breaker('cache.redis'));
    expect(() => registry.breaker('cache.redis', { failMax: 9, classify })).toThrow(
      'Circuit "cache.redis" already exists with other options (failMax): one breaker per dependency per registry',
    );
  });

  it('compares plain override values by value, so a client made twice shares its circuit', () => {
    const registry = new BreakerRegistry({ metrics: false, logger: silentLogger() });
    const first = registry.breaker('erp_connectors.sap', { slidingWindow: { kind: 'count', size: 50 } });
    expect(registry.breaker('erp_connectors.sap', { slidingWindow: { kind: 'count', size: 50 } })).toBe(first);
  });

  it('treats an override set to undefined as not given, keeping the file’s setting', () => {
    expect(setup().registry.breaker('factor_broker.ecoinvent', { failMax: undefined }).config.failMax).toBe(3);
  });

  it('gives its clock to every breaker it makes', async () => {
    const { registry, clock } = setup();
    expect(registry.clock).toBe(clock);
    for (let i = 0; i < 3; i++) await fail(registry, 'factor_broker.ecoinvent');
    clock.advance(60_000);
    expect(registry.breaker('factor_broker.ecoinvent').state).toBe('half_open');
  });

  it('gives a client its own settings checked and converted, seconds to milliseconds', () => {
    const { registry } = setup();
    expect(
      registry.settings('factor_broker.ecoinvent', {
        cacheTtlMs: setting.seconds('cache_ttl'),
        staleMaxAgeMs: setting.seconds('stale_max_age'),
      }),
    ).toEqual({ cacheTtlMs: 86_400_000 });
    expect(registry.settings('database.postgres', { poolSize: setting.positiveInt('connection_pool_size') })).toEqual({
      poolSize: 20,
    });
  });

  it('names the key and the reason when a client setting is invalid', () => {
    const registry = new BreakerRegistry({
      config: loadConfig('factor_broker:\n  epa:\n    failover: nowhere\n'),
      logger: silentLogger(),
      metrics: false,
    });
    expect(() => registry.settings('factor_broker.epa', { failover: setting.service('failover', ['desnz']) })).toThrow(
      /factor_broker\.epa\.failover: expected one of desnz, got "nowhere"/,
    );
  });

  it('warns once about a key nobody reads, naming the closest known key', () => {
    const { logger, lines } = capturingLogger();
    const config = loadConfig('factor_broker:\n  epa:\n    fail_maxx: 3\n    cache_tl: 60\n');
    const registry = new BreakerRegistry({ config, logger, metrics: false });
    registry.settings('factor_broker.epa', { cacheTtlMs: setting.seconds('cache_ttl') });
    registry.settings('factor_broker.epa', { cacheTtlMs: setting.seconds('cache_ttl') });
    const warnings = lines.filter((l) => l.level === 40).map((l) => [l.key, l.msg]);
    expect(warnings).toEqual([
      ['factor_broker.epa.fail_maxx', expect.stringMatching(/unknown key .*did you mean fail_max\?/)],
      ['factor_broker.epa.cache_tl', expect.stringMatching(/did you mean cache_ttl\?/)],
    ]);
  });

  it('refuses a key nobody reads with strictConfig', () => {
    const config = loadConfig('factor_broker:\n  epa:\n    fail_maxx: 3\n');
    const registry = new BreakerRegistry({ config, logger: silentLogger(), metrics: false, strictConfig: true });
    expect(() => registry.settings('factor_broker.epa', {})).toThrow(
      /factor_broker\.epa\.fail_maxx: unknown key .*did you mean fail_max\?/,
    );
  });

  it('resolves and checks what a breaker would be built with, without building it', () => {
    const { registry } = setup();
    expect(registry.breakerConfig('factor_broker.ecoinvent', {}, { callTimeoutMs: 1_234 })).toMatchObject({
      failMax: 3,
      callTimeoutMs: 1_234,
    });
    expect(() => registry.breakerConfig('factor_broker.ecoinvent', { failMax: -1 })).toThrow(/failMax/);
    expect(registry.get('factor_broker.ecoinvent')).toBeUndefined();
  });

  it('builds a breaker from the client defaults, then the file, then the overrides', () => {
    const { registry } = setup();
    const breaker = registry.breaker(
      'factor_broker.ecoinvent',
      { successThreshold: 3 },
      {
        failMax: 99,
        callTimeoutMs: 1_234,
        successThreshold: 2,
      },
    );
    expect(breaker.config).toMatchObject({ failMax: 3, callTimeoutMs: 1_234, successThreshold: 3 });
  });

  it('reports ok while every circuit is closed', async () => {
    const { registry } = setup();
    await registry.breaker('factor_broker.ecoinvent').execute(async () => 1);
    expect(registry.health()).toEqual({
      status: 'ok',
      circuits: {
        'factor_broker.ecoinvent': {
          state: 'closed',
          critical: false,
          failureRate: 0,
          slowCallRate: 0,
          callsInWindow: 1,
          lastTransition: undefined,
          nextTrialAt: undefined,
        },
      },
    });
  });

  it('reports degraded with the open circuit’s failure rate, last transition and next trial time', async () => {
    const { registry, clock } = setup();
    registry.breaker('database.postgres');
    clock.advance(5_000);
    for (let i = 0; i < 3; i++) await fail(registry, 'factor_broker.ecoinvent');
    const health = registry.health();
    expect(health.status).toBe('degraded');
    expect(health.circuits['factor_broker.ecoinvent']).toEqual({
      state: 'open',
      critical: false,
      failureRate: 100,
      slowCallRate: 0,
      callsInWindow: 3,
      lastTransition: { from: 'closed', to: 'open', reason: 'failure_count', at: 5_000 },
      nextTrialAt: 65_000,
    });
    expect(health.circuits['database.postgres']?.state).toBe('closed');
  });

  it('reports degraded while a circuit is half-open', async () => {
    const { registry, clock } = setup();
    for (let i = 0; i < 3; i++) await fail(registry, 'factor_broker.ecoinvent');
    clock.advance(60_000);
    expect(registry.health().status).toBe('degraded');
    expect(registry.health().circuits['factor_broker.ecoinvent']?.state).toBe('half_open');
  });

  it('reports down when a critical circuit is open or forced open', async () => {
    const { registry } = setup();
    for (let i = 0; i < 5; i++) await fail(registry, 'database.postgres');
    expect(registry.health().status).toBe('down');
    registry.breaker('database.postgres').reset();
    registry.breaker('database.postgres').forceOpen();
    expect(registry.health().status).toBe('down');
  });
});
