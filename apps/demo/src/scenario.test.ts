import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemo, type Demo } from './app.js';
import { runScenario, type ScenarioResult } from './scenario.js';

// The scripted outage in short mode, as `npm run demo -- --short` runs it: its own invariants are
// the assertions. Timings are reported by the scenario, never asserted.
describe('the short scenario', () => {
  let demo: Demo;
  let result: ScenarioResult;
  const lines: string[] = [];

  beforeAll(async () => {
    demo = await createDemo({ short: true, logger: silentLogger() });
    result = await runScenario(demo, { out: (line) => lines.push(line) });
    console.log(`${lines.join('\n')}\n\n${result.table}\n${JSON.stringify(result.latency)}`);
  }, 120_000);

  afterAll(async () => {
    await demo?.close();
  });

  it('holds every invariant: no calculation lost, every report delivered once, honest provenance, circuits closed again', () => {
    expect(result.invariants.filter((i) => !i.ok)).toEqual([]);
    expect(result.invariants.map((i) => i.name)).toEqual([
      'no calculation lost',
      'every report delivered once',
      "every value's provenance honest",
      'every circuit the scenario opened closed again',
    ]);
    expect(result.ok).toBe(true);
  });

  it('opens the ecoinvent circuit during the outage and closes it after recovery', () => {
    const eco = demo.transitions
      .filter((t) => t.circuitName === 'factor_broker.ecoinvent')
      .map((t) => `${t.from}>${t.to}`);
    expect(eco).toEqual(['closed>open', 'open>half_open', 'half_open>closed']);
    expect(demo.transitions.find((t) => t.circuitName === 'factor_broker.ecoinvent')?.reason).toBe('failure_count');
  });

  it('serves the outage from the cache, the DESNZ failover and the cited defaults, and says so', () => {
    const served = demo.served.of('factor_broker.ecoinvent');
    expect(served).toMatchObject({
      cache: expect.any(Number),
      failover: expect.any(Number),
      default: expect.any(Number),
    });
    expect(result.latency.beforeTrip.n).toBeGreaterThan(0);
    expect(result.latency.afterTrip.n).toBeGreaterThan(0);
  });

  it('fails over to OpenAI in the 429 storm, serves SAP from the cached list, queues mail while SendGrid is down', () => {
    expect(demo.served.of('llm_providers.claude').failover).toBeGreaterThan(0);
    expect(demo.transitions.some((t) => t.circuitName === 'llm_providers.claude' && t.reason === 'retry_after')).toBe(
      true,
    );
    expect(demo.served.of('erp_connectors.sap').cache).toBeGreaterThan(0);
    expect(demo.served.of('email_service.sendgrid').queued).toBeGreaterThan(0);
    expect(demo.transitions.filter((t) => t.circuitName === 'database.postgres').map((t) => t.to)).toEqual([
      'open',
      'half_open',
      'closed',
    ]);
  });

  it('ends with a table of every circuit', () => {
    for (const name of [
      'factor_broker.ecoinvent',
      'llm_providers.claude',
      'erp_connectors.sap',
      'email_service.sendgrid',
      'database.postgres',
      'cache.redis',
    ]) {
      expect(result.table).toContain(name);
    }
  });
});
