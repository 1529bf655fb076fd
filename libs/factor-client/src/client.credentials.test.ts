import { inspect } from 'node:util';
import { capturingLogger } from '@gl-vcci/breaker-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness } from '../test/support.js';
import { isFactorMismatchError, isFactorRequestError, isFactorUnavailableError } from './errors.js';
import type { FactorQuery } from './types.js';

const EPA_KEY = 'epa-key-s3cret';
const ECOINVENT_TOKEN = 'eco-t0ken-s3cret';
const GAS: FactorQuery = { source: 'epa', activity: 'natural_gas', region: 'US', unit: 'kg CO2/mmBtu' };
const STEEL: FactorQuery = { ...GAS, activity: 'steel' }; // no default: every step fails
// A row of EPA's answer as the simulator sends it.
const ROW = { value: 53.06, unit: 'kg CO2/mmBtu', source: 'EPA', year: 2024, region: 'US' };

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function withSecrets() {
  const log = capturingLogger();
  h = await harness(
    {},
    {
      logger: log.logger,
      headers: { epa: { 'x-api-key': EPA_KEY }, ecoinvent: { authorization: `Bearer ${ECOINVENT_TOKEN}` } },
    },
  );
  return log;
}

describe('secrets never reach an error or a log', () => {
  it.each([
    ['resets the connection', (x: Harness) => x.sims.epa.mode('reset')],
    ['refuses the connection', (x: Harness) => x.sims.epa.http.stop()],
  ])('when the source %s, the FactorUnavailableError shows no x-api-key', async (_, fail) => {
    const log = await withSecrets();
    await fail(h);
    const error = await h.client.getFactor(STEEL).catch((e: unknown) => e);
    expect(isFactorUnavailableError(error)).toBe(true);
    const shown = inspect(error, { depth: null });
    expect(shown).toMatch(/ECONNRESET|ECONNREFUSED/); // the diagnosis is kept
    expect(shown).not.toContain(EPA_KEY);
    expect(JSON.stringify(log.lines)).not.toContain(EPA_KEY);
    await h.sims.epa.http.start();
  });

  it('when a source and its failover both reset, no Authorization Bearer value shows', async () => {
    const log = await withSecrets();
    h.sims.ecoinvent.mode('reset');
    h.sims.desnz.mode('reset');
    const error = await h.client.getFactor({ ...STEEL, source: 'ecoinvent' }).catch((e: unknown) => e);
    expect(isFactorUnavailableError(error)).toBe(true);
    const shown = inspect(error, { depth: null });
    expect(shown).toContain('ECONNRESET');
    expect(shown).not.toContain(ECOINVENT_TOKEN);
    expect(JSON.stringify(log.lines)).not.toContain(ECOINVENT_TOKEN);
  });
});

describe('a source that echoes the key it was sent', () => {
  it('in a 200 answer: a mismatch or an unusable answer quotes it without the key', async () => {
    await withSecrets();
    h.sims.epa.mode({ status: 200, body: { data: [{ ...ROW, unit: `kg (${EPA_KEY})` }] } });
    const mismatch = await h.client.getFactor(GAS).catch((e: unknown) => e);
    expect(isFactorMismatchError(mismatch)).toBe(true);
    expect(inspect(mismatch, { depth: null })).not.toContain(EPA_KEY);
    h.sims.epa.mode({ status: 200, body: { data: [{ ...ROW, value: `key=${EPA_KEY}` }] } });
    const malformed = await h.client.getFactor(STEEL).catch((e: unknown) => e);
    expect(inspect(malformed, { depth: null })).toContain('[redacted]');
    expect(inspect(malformed, { depth: null })).not.toContain(EPA_KEY);
  });

  it('in a 400 body: the FactorRequestError says why without the key', async () => {
    await withSecrets();
    h.sims.epa.mode({ status: 400, body: { message: `bad request from key ${EPA_KEY}` } });
    const error = await h.client.getFactor(GAS).catch((e: unknown) => e);
    expect(isFactorRequestError(error)).toBe(true);
    expect((error as Error).message).toContain('bad request from key [redacted]');
    expect(inspect(error, { depth: null })).not.toContain(EPA_KEY);
  });
});

describe('credentials refused (HTTP 401, 403)', () => {
  it.each([401, 403])(
    'HTTP %i counts against the circuit, falls back, and is logged at error naming the source',
    async (status) => {
      const log = await withSecrets();
      h.sims.epa.mode({ status, body: { message: 'invalid API key' } });
      expect(await h.client.getFactor(GAS)).toMatchObject({ source: 'default', value: 53.06 });
      expect(await h.client.getFactor(GAS)).toMatchObject({ source: 'default' });
      expect(h.registry.get('factor_broker.epa')!.state).toBe('open');
      const errors = log.lines.filter((l) => l.level === 50);
      expect(errors.map((l) => l.msg)).toEqual([
        `credentials refused by epa (HTTP ${status}): check the API key`,
        `credentials refused by epa (HTTP ${status}): check the API key`,
      ]);
      expect(errors[0]).toMatchObject({ factorSource: 'epa', circuit: 'factor_broker.epa', status });
      expect(JSON.stringify(log.lines)).not.toContain(EPA_KEY);
    },
  );

  it('says so in FactorUnavailableError when nothing else has a value', async () => {
    await withSecrets();
    h.sims.epa.mode({ status: 401 });
    await expect(h.client.getFactor(STEEL)).rejects.toThrow(
      'live: epa failed for the factor for activity "steel" in region "US": credentials refused by epa (HTTP 401): check the API key',
    );
  });
});
