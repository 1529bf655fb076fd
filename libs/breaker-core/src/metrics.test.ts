import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConfigError, TimeoutError } from './errors.js';
import { ensureMetric } from './metrics.js';
import { BreakerRegistry } from './registry.js';
import { flushPromises, ManualClock, silentLogger } from './testing.js';

function setup() {
  const promRegistry = new Registry();
  const clock = new ManualClock(0);
  const registry = new BreakerRegistry({
    metrics: { registry: promRegistry, buckets: [0.1, 1] },
    logger: silentLogger(),
    clock,
  });
  return { promRegistry, clock, registry };
}

const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

describe('breaker metrics', () => {
  it('publish exact counts, transitions, state and rates after a scripted run', async () => {
    const { promRegistry, clock, registry } = setup();
    const breaker = registry.breaker('factor_broker.epa', {
      failMax: 2,
      slidingWindow: { kind: 'count', size: 10 },
      openDurationMs: 1_000,
      classify: (e) => ((e as Error).message === 'bad input' ? 'ignore' : 'failure'),
    });
    await breaker.execute(async () => {
      clock.advance(50);
      return 1;
    });
    await breaker.execute(() => Promise.reject(new Error('bad input'))).catch(() => {});
    await breaker
      .execute(async () => {
        clock.advance(500);
        throw new Error('down');
      })
      .catch(() => {});
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    for (let i = 0; i < 3; i++) await breaker.execute(async () => 1).catch(() => {});
    clock.advance(1_000);
    await breaker.execute(async () => 1);

    const text = await promRegistry.metrics();
    expect(lines(text, 'greenlang_circuit_breaker_calls_total')).toEqual([
      'greenlang_circuit_breaker_calls_total{circuit_name="factor_broker.epa",status="success"} 2',
      'greenlang_circuit_breaker_calls_total{circuit_name="factor_broker.epa",status="failure"} 2',
      'greenlang_circuit_breaker_calls_total{circuit_name="factor_broker.epa",status="rejected"} 3',
      'greenlang_circuit_breaker_calls_total{circuit_name="factor_broker.epa",status="ignored"} 1',
      'greenlang_circuit_breaker_calls_total{circuit_name="factor_broker.epa",status="timeout"} 0',
    ]);
    expect(lines(text, 'greenlang_circuit_breaker_not_permitted_calls_total')).toEqual([
      'greenlang_circuit_breaker_not_permitted_calls_total{circuit_name="factor_broker.epa"} 3',
    ]);
    expect(lines(text, 'greenlang_circuit_breaker_state_transitions_total')).toEqual([
      'greenlang_circuit_breaker_state_transitions_total{circuit_name="factor_broker.epa",from_state="closed",to_state="open"} 1',
      'greenlang_circuit_breaker_state_transitions_total{circuit_name="factor_broker.epa",from_state="open",to_state="half_open"} 1',
      'greenlang_circuit_breaker_state_transitions_total{circuit_name="factor_broker.epa",from_state="half_open",to_state="closed"} 1',
    ]);
    expect(lines(text, 'greenlang_circuit_breaker_state{')).toEqual([
      'greenlang_circuit_breaker_state{circuit_name="factor_broker.epa"} 0',
    ]);
    expect(
      lines(
        text,
        'greenlang_circuit_breaker_call_duration_seconds_bucket{circuit_name="factor_broker.epa",status="success"',
      ),
    ).toEqual([
      'greenlang_circuit_breaker_call_duration_seconds_bucket{circuit_name="factor_broker.epa",status="success",le="0.1"} 2',
      'greenlang_circuit_breaker_call_duration_seconds_bucket{circuit_name="factor_broker.epa",status="success",le="1"} 2',
      'greenlang_circuit_breaker_call_duration_seconds_bucket{circuit_name="factor_broker.epa",status="success",le="+Inf"} 2',
    ]);
    expect(
      lines(
        text,
        'greenlang_circuit_breaker_call_duration_seconds_bucket{circuit_name="factor_broker.epa",status="failure"',
      ),
    ).toEqual([
      'greenlang_circuit_breaker_call_duration_seconds_bucket{circuit_name="factor_broker.epa",status="failure",le="0.1"} 1',
      'greenlang_circuit_breaker_call_duration_seconds_bucket{circuit_name="factor_broker.epa",status="failure",le="1"} 2',
      'greenlang_circuit_breaker_call_duration_seconds_bucket{circuit_name="factor_broker.epa",status="failure",le="+Inf"} 2',
    ]);
    expect(
      lines(
        text,
        'greenlang_circuit_breaker_call_duration_seconds_sum{circuit_name="factor_broker.epa",status="success"}',
      ),
    ).toEqual([
      'greenlang_circuit_breaker_call_duration_seconds_sum{circuit_name="factor_broker.epa",status="success"} 0.05',
    ]);
    expect(lines(text, 'greenlang_circuit_breaker_failure_rate')).toEqual([
      'greenlang_circuit_breaker_failure_rate{circuit_name="factor_broker.epa"} 0',
    ]);
  });

  it('shows an open circuit as 1 and its failure rate as a 0–1 ratio of the window (Prometheus convention)', async () => {
    const { promRegistry, registry } = setup();
    const breaker = registry.breaker('cache.redis', { failMax: 2, slidingWindow: { kind: 'count', size: 4 } });
    await breaker.execute(async () => 1);
    await breaker.execute(async () => 1);
    for (let i = 0; i < 2; i++) await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    const text = await promRegistry.metrics();
    expect(lines(text, 'greenlang_circuit_breaker_state{')).toEqual([
      'greenlang_circuit_breaker_state{circuit_name="cache.redis"} 1',
    ]);
    expect(lines(text, 'greenlang_circuit_breaker_failure_rate{')).toEqual([
      'greenlang_circuit_breaker_failure_rate{circuit_name="cache.redis"} 0.5',
    ]);
    // The platform's alert (failure_rate > 0.5) reads a ratio; snapshot() keeps the percentage.
    expect(breaker.snapshot().failureRate).toBe(50);
  });

  it('publishes the slow-call rate as an exact 0–1 ratio of the window', async () => {
    const { promRegistry, clock, registry } = setup();
    const breaker = registry.breaker('llm_providers.claude', {
      failMax: 5,
      slidingWindow: { kind: 'count', size: 10 },
      slowCallDurationMs: 1_000,
    });
    await breaker.execute(async () => clock.advance(1_000));
    await breaker.execute(async () => 1);
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    const text = await promRegistry.metrics();
    expect(lines(text, 'greenlang_circuit_breaker_slow_call_rate{')).toEqual([
      'greenlang_circuit_breaker_slow_call_rate{circuit_name="llm_providers.claude"} 0.3333333333333333',
    ]);
    expect(lines(text, 'greenlang_circuit_breaker_failure_rate{')).toEqual([
      'greenlang_circuit_breaker_failure_rate{circuit_name="llm_providers.claude"} 0.3333333333333333',
    ]);
    expect(breaker.snapshot()).toMatchObject({ callsInWindow: 3, failuresInWindow: 1, slowCallsInWindow: 1 });
  });

  it('count a call that outlived its deadline once, as a timeout', async () => {
    const { promRegistry, clock, registry } = setup();
    const breaker = registry.breaker('erp_connectors.oracle', { callTimeoutMs: 100 });
    const call = breaker.execute(() => new Promise(() => {}));
    clock.advance(100);
    await expect(call).rejects.toBeInstanceOf(TimeoutError);
    await flushPromises();
    const text = await promRegistry.metrics();
    expect(
      lines(text, 'greenlang_circuit_breaker_calls_total{circuit_name="erp_connectors.oracle",status="timeout"}'),
    ).toEqual(['greenlang_circuit_breaker_calls_total{circuit_name="erp_connectors.oracle",status="timeout"} 1']);
    expect(
      lines(text, 'greenlang_circuit_breaker_calls_total{circuit_name="erp_connectors.oracle",status="failure"}'),
    ).toEqual(['greenlang_circuit_breaker_calls_total{circuit_name="erp_connectors.oracle",status="failure"} 0']);
  });

  it('count shadow trips of a metrics_only circuit by reason', async () => {
    const { promRegistry, registry } = setup();
    const breaker = registry.breaker('llm_providers.openai', { failMax: 1, mode: 'metrics_only' });
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    expect(lines(await promRegistry.metrics(), 'greenlang_circuit_breaker_shadow_trips_total{')).toEqual([
      'greenlang_circuit_breaker_shadow_trips_total{circuit_name="llm_providers.openai",reason="failure_count"} 1',
    ]);
  });

  it('refuse a second registry on the same prom-client Registry until the first is closed', () => {
    const { promRegistry, registry } = setup();
    expect(() => new BreakerRegistry({ metrics: { registry: promRegistry }, logger: silentLogger() })).toThrow(
      ConfigError,
    );
    registry.close();
    expect(() => new BreakerRegistry({ metrics: { registry: promRegistry }, logger: silentLogger() })).not.toThrow();
  });

  it('let a client share one metric per name through ensureMetric', () => {
    const { promRegistry } = setup();
    const make = (registers: Registry[]) =>
      new Counter({ name: 'greenlang_cache_requests_total', help: 'h', registers });
    expect(ensureMetric(promRegistry, 'greenlang_cache_requests_total', make)).toBe(
      ensureMetric(promRegistry, 'greenlang_cache_requests_total', make),
    );
  });
});
