import { capturingLogger } from '@gl-vcci/breaker-core/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemo, type Demo } from './app.js';
import { buildServer } from './server.js';

describe('HTTP API', () => {
  let demo: Demo;
  let app: FastifyInstance;
  let off: FastifyInstance;
  const logger = capturingLogger();
  const TOKEN = 'test-operator-token-0123456789';
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    demo = await createDemo({ short: true, logger: logger.logger });
    app = await buildServer(demo, { operatorToken: TOKEN });
    off = await buildServer(demo);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await off?.close();
    await demo?.close();
  });

  it('calculates with the factor and its provenance', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/calculate',
      payload: { activity: 'electricity_grid', quantity: 1000, unit: 'kWh', region: 'DE' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      emissionsKg: 381,
      factor: { value: 0.381, provider: 'ecoinvent', source: 'live', quality: 'high' },
    });
  });

  it.each([
    [{ activity: 'electricity_grid', unit: 'kWh', region: 'DE' }, 'quantity'],
    [{ activity: 'electricity_grid', quantity: 'lots', unit: 'kWh', region: 'DE' }, 'quantity'],
    [{ activity: 'electricity_grid', quantity: 1, unit: 'kWh', region: 'DE', colour: 'red' }, 'colour'],
    [{ activity: 'electricity_grid', quantity: 1, unit: 'kWh', region: 'usa' }, 'region'],
  ])('answers 400 naming the field for %j', async (payload, field) => {
    const res = await app.inject({ method: 'POST', url: '/calculate', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad_request', field });
    expect(res.json().message).toContain(field);
  });

  it('answers 400 naming the field for a bad intake or report request', async () => {
    const intake = await app.inject({ method: 'POST', url: '/intake/run', payload: { system: 'netsuite' } });
    expect(intake.statusCode).toBe(400);
    expect(intake.json().field).toBe('system');
    const report = await app.inject({ method: 'POST', url: '/reports/send', payload: { to: 'not an address' } });
    expect(report.statusCode).toBe(400);
    expect(report.json().field).toBe('to');
  });

  it('answers 422 when no source has a factor for the activity', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/calculate',
      payload: { activity: 'unobtainium', quantity: 1, unit: 'kg', region: 'DE' },
    });
    expect(res.statusCode).toBe(422);
  });

  it('runs the intake and sends a report', async () => {
    const intake = await app.inject({ method: 'POST', url: '/intake/run', payload: { system: 'sap' } });
    expect(intake.statusCode).toBe(200);
    expect(intake.json()).toMatchObject({ system: 'sap', suppliers: { count: 36, source: 'live' } });
    const report = await app.inject({ method: 'POST', url: '/reports/send', payload: { to: 'cfo@gl-vcci.example' } });
    expect(report.statusCode).toBe(200);
    expect(report.json()).toMatchObject({ status: 'sent', suppliers: 30 });
    expect(demo.upstreams.sendgrid.deliveries(report.json().id)).toBe(1);
  });

  it('publishes Prometheus metrics', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('greenlang_circuit_breaker_state{circuit_name="factor_broker.ecoinvent"}');
    expect(res.body).toContain('greenlang_factor_lookups_total');
  });

  it('keeps the operator endpoints off without a token', async () => {
    const res = await off.inject({ method: 'POST', url: '/circuits/factor_broker.epa/force-open' });
    expect(res.statusCode).toBe(404);
    expect(demo.registry.get('factor_broker.epa')!.state).toBe('closed');
  });

  it('refuses a wrong token with 401, logs it and changes nothing', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/circuits/factor_broker.epa/force-open',
      headers: { authorization: 'Bearer wrong' },
    });
    expect(res.statusCode).toBe(401);
    expect(demo.registry.get('factor_broker.epa')!.state).toBe('closed');
    expect(logger.lines.some((l) => String(l.msg).includes('operator endpoint refused'))).toBe(true);
    expect(JSON.stringify(logger.lines)).not.toContain(TOKEN);
  });

  it('forces a circuit open by hand, marks it, and resets it', async () => {
    const open = await app.inject({ method: 'POST', url: '/circuits/factor_broker.epa/force-open', headers: auth });
    expect(open.statusCode).toBe(200);
    expect(open.json()).toMatchObject({ state: 'forced_open', manual: { action: 'force-open' } });
    const view = await app.inject({ method: 'GET', url: '/circuits/factor_broker.epa', headers: auth });
    expect(view.json()).toMatchObject({ state: 'forced_open', manual: { action: 'force-open' } });
    const reset = await app.inject({ method: 'POST', url: '/circuits/factor_broker.epa/reset', headers: auth });
    expect(reset.json()).toMatchObject({ state: 'closed' });
    expect(demo.manual.has('factor_broker.epa')).toBe(false);
  });

  it('reports health 200 while only a non-critical circuit is open, 503 when a critical one is', async () => {
    await app.inject({ method: 'POST', url: '/circuits/factor_broker.desnz/force-open', headers: auth });
    const degraded = await app.inject({ method: 'GET', url: '/health/circuit-breakers' });
    expect(degraded.statusCode).toBe(200);
    expect(degraded.json().status).toBe('degraded');
    await app.inject({ method: 'POST', url: '/circuits/database.postgres/force-open', headers: auth });
    const down = await app.inject({ method: 'GET', url: '/health/circuit-breakers' });
    expect(down.statusCode).toBe(503);
    expect(down.json().status).toBe('down');
    await app.inject({ method: 'POST', url: '/circuits/database.postgres/reset', headers: auth });
    await app.inject({ method: 'POST', url: '/circuits/factor_broker.desnz/reset', headers: auth });
    const ok = await app.inject({ method: 'GET', url: '/health/circuit-breakers' });
    expect(ok.statusCode).toBe(200);
  });

  it('serves the dashboard page', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("new EventSource('/events')");
  });
});
