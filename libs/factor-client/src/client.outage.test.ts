import type { FailureMode } from '@gl-vcci/upstreams/http-simulator';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CACHE_TTL_MS,
  CALL_TIMEOUT_MS,
  type Harness,
  harness,
  OPEN_DURATION_MS,
  samples,
  waitForRequests,
} from '../test/support.js';
import type { FactorQuery, FactorResult } from './types.js';

// ecoinvent fails over to desnz in the test config; these tests use epa (no failover) unless they
// say otherwise, so the step after the cache is the default.
const GAS: FactorQuery = { source: 'epa', activity: 'natural_gas', region: 'US', unit: 'kg CO2/mmBtu' };

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** A lookup whose request needs the call deadline to pass: waits for the request, then moves the clock. */
async function pastDeadline(query: FactorQuery = GAS): Promise<FactorResult> {
  const sim = h.sims[query.source];
  const before = sim.lookups();
  const pending = h.client.getFactor(query);
  await waitForRequests(sim, before + 1);
  await h.clock.advanceAsync(CALL_TIMEOUT_MS);
  return pending;
}

/**
 * Warms the cache with one live answer and lets it expire (a fresh one is served without asking
 * the source), switches the failure on, then: two failing lookups are served stale and open the
 * circuit; the third is served stale without a request.
 */
async function expectTripServedStale(fail: () => Promise<void> | void, lookup = () => h.client.getFactor(GAS)) {
  expect((await h.client.getFactor(GAS)).source).toBe('live');
  await h.clock.advanceAsync(CACHE_TTL_MS + 1);
  await fail();
  expect((await lookup()).source).toBe('stale');
  expect((await lookup()).source).toBe('stale');
  expect(h.registry.get('factor_broker.epa')!.state).toBe('open');
  const sent = h.sims.epa.lookups();
  expect(await h.client.getFactor(GAS)).toMatchObject({ source: 'stale', value: 53.1 });
  expect(h.sims.epa.lookups()).toBe(sent);
}

describe('outages of a source', () => {
  it('refused connections trip the circuit; lookups are served from the expired cache (stale)', async () => {
    h = await harness();
    await expectTripServedStale(() => h.sims.epa.http.stop());
    await h.sims.epa.http.start();
  });

  it('a hung source trips the circuit at the call deadline', async () => {
    h = await harness();
    await expectTripServedStale(
      () => h.sims.epa.mode('hang'),
      () => pastDeadline(),
    );
    const calls = await samples(h.prom, 'greenlang_circuit_breaker_calls_total');
    expect(calls).toContain(
      'greenlang_circuit_breaker_calls_total{circuit_name="factor_broker.epa",status="timeout"} 2',
    );
  });

  it('an answer dripping under the idle timeout is cut at the deadline', async () => {
    h = await harness(); // axios' idle timeout (5 s) never fires: a byte arrives every 100 ms
    await expectTripServedStale(
      () => h.sims.epa.mode({ drip: { intervalMs: 100, chunks: 50 } }),
      () => pastDeadline(),
    );
  });

  it.each<[string, FailureMode]>([
    ['HTTP 500', { status: 500 }],
    ['HTTP 503', { status: 503 }],
    ['a connection reset', 'reset'],
    ['a body that is not JSON', 'malformed'],
    [
      'a 200 without a value',
      { status: 200, body: { data: [{ unit: 'kg CO2/mmBtu', source: 'EPA', year: 2024, region: 'US' }] } },
    ],
  ])('%s counts as a failure and trips the circuit', async (_, mode) => {
    h = await harness();
    await expectTripServedStale(() => h.sims.epa.mode(mode));
  });

  it('a negative value counts as a failure', async () => {
    h = await harness();
    await expectTripServedStale(() => {
      h.sims.epa.setFactor('natural_gas', 'US', { value: -1, unit: 'kg CO2/mmBtu', year: 2024 });
    });
  });

  it('a flapping source opens the circuit once the failures add up', async () => {
    h = await harness();
    expect((await h.client.getFactor(GAS)).source).toBe('live');
    h.sims.epa.mode({ flap: { every: 1, failure: { status: 502 } } });
    const sources = [];
    for (let i = 0; i < 5; i++) {
      // Each of the first four finds its cached answer expired, so it asks the source; the fifth
      // finds the circuit open (a count window: the hours moved do not age the failures out).
      if (i < 4) await h.clock.advanceAsync(CACHE_TTL_MS + 1);
      sources.push((await h.client.getFactor(GAS)).source);
    }
    expect(sources).toEqual(['live', 'stale', 'live', 'stale', 'stale']);
    expect(h.registry.get('factor_broker.epa')!.state).toBe('open');
    expect(h.sims.epa.lookups()).toBe(5);
  });

  it('429 with Retry-After keeps the circuit open that long, past its own open duration', async () => {
    h = await harness();
    await expectTripServedStale(() => h.sims.epa.mode({ status: 429, headers: { 'retry-after': '120' } }));
    const breaker = h.registry.get('factor_broker.epa')!;
    h.clock.advance(OPEN_DURATION_MS);
    expect(breaker.state).toBe('open');
    h.clock.advance(120_000 - OPEN_DURATION_MS - 1);
    expect(breaker.state).toBe('open');
    h.clock.advance(1);
    expect(breaker.state).toBe('half_open');
    h.sims.epa.mode('healthy');
    expect((await h.client.getFactor(GAS)).source).toBe('live');
    expect(breaker.state).toBe('closed');
  });

  it('recovers: after the open duration a trial lookup goes live and closes the circuit', async () => {
    h = await harness();
    await expectTripServedStale(() => h.sims.epa.mode({ status: 503 }));
    h.sims.epa.mode('healthy');
    h.clock.advance(OPEN_DURATION_MS);
    expect((await h.client.getFactor(GAS)).source).toBe('live');
    expect(h.registry.get('factor_broker.epa')!.state).toBe('closed');
  });

  it('404 never trips the circuit: it is the caller’s mistake', async () => {
    h = await harness();
    for (let i = 0; i < 5; i++) {
      await expect(h.client.getFactor({ ...GAS, activity: 'unobtainium' })).rejects.toThrow(
        'No epa factor for activity "unobtainium" in region "US": epa answered 404',
      );
    }
    expect(h.registry.get('factor_broker.epa')!.state).toBe('closed');
    const calls = await samples(h.prom, 'greenlang_circuit_breaker_calls_total');
    expect(calls).toContain(
      'greenlang_circuit_breaker_calls_total{circuit_name="factor_broker.epa",status="ignored"} 5',
    );
  });

  it('ecoinvent opening leaves EPA’s circuit closed', async () => {
    h = await harness();
    await h.sims.ecoinvent.http.stop();
    h.sims.desnz.mode({ status: 503 }); // its failover is down too: the default answers
    const eco = { ...GAS, source: 'ecoinvent' as const };
    expect((await h.client.getFactor(eco)).source).toBe('default');
    expect((await h.client.getFactor(eco)).source).toBe('default');
    expect(h.registry.get('factor_broker.ecoinvent')!.state).toBe('open');
    expect((await h.client.getFactor(GAS)).source).toBe('live');
    expect(h.registry.get('factor_broker.epa')!.state).toBe('closed');
    expect(h.registry.health().circuits['factor_broker.epa']!.state).toBe('closed');
    await h.sims.ecoinvent.http.start();
  });

  it('publishes every step in greenlang_factor_lookups_total after a scripted run', async () => {
    h = await harness();
    await h.client.getFactor(GAS); // live
    h.sims.epa.mode({ status: 503 });
    await h.client.getFactor(GAS); // cache
    await h.client.getFactor({ ...GAS, unit: 'kg CO2/scf' }); // default
    await h.client.getFactor({ ...GAS, activity: 'steel' }).catch(() => {}); // error: no default
    h.sims.ecoinvent.mode({ status: 500 });
    await h.client.getFactor({ ...GAS, source: 'ecoinvent' }); // failover to desnz
    h.clock.advance(OPEN_DURATION_MS + 3_600_001);
    await h.client.getFactor(GAS); // stale
    const text = await h.prom.getSingleMetricAsString('greenlang_factor_lookups_total');
    const lines = text.split('\n').filter((l) => l.includes('{') && !l.endsWith(' 0'));
    expect(lines).toEqual([
      'greenlang_factor_lookups_total{factor_source="ecoinvent",source="failover"} 1',
      'greenlang_factor_lookups_total{factor_source="epa",source="live"} 1',
      'greenlang_factor_lookups_total{factor_source="epa",source="cache"} 1',
      'greenlang_factor_lookups_total{factor_source="epa",source="stale"} 1',
      'greenlang_factor_lookups_total{factor_source="epa",source="default"} 1',
      'greenlang_factor_lookups_total{factor_source="epa",source="error"} 1',
    ]);
    expect(text).toContain('# TYPE greenlang_factor_lookups_total counter');
    const state = await samples(h.prom, 'greenlang_circuit_breaker_state');
    // The stale lookup was the half-open trial; its failure reopened the circuit.
    expect(state).toContain('greenlang_circuit_breaker_state{circuit_name="factor_broker.epa"} 1');
  });
});
