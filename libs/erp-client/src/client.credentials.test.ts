import { inspect } from 'node:util';
import { capturingLogger } from '@gl-vcci/breaker-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { DATA, drive, type Harness, harness, SECRETS } from '../test/support.js';
import { isErpUnavailableError } from './errors.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const ALL_SECRETS = () => [
  SECRETS.sapPassword,
  SECRETS.oracleClientSecret,
  SECRETS.workdayClientSecret,
  Buffer.from(`COMM_USER:${SECRETS.sapPassword}`).toString('base64'),
  ...h.oracleTokens.issued,
  ...h.workdayTokens.issued,
];
const leaks = (text: string) => ALL_SECRETS().filter((s) => text.includes(s));

describe('OAuth2 client credentials', () => {
  it('fetches one token for every page of a fetch, and for the fetches after it', async () => {
    h = await harness();
    await drive(h, h.client.fetchSuppliers('workday')); // 25 pages
    await drive(h, h.client.fetchPurchaseOrders('workday'));
    expect(h.workdayTokens.issued).toHaveLength(1);
    const auth = h.workday.requests('suppliers').map((r) => r.headers.authorization);
    expect(new Set(auth)).toEqual(new Set([`Bearer ${h.workdayTokens.issued[0]}`]));
    const form = String(h.workdayTokens.http.requests[0]!.body);
    expect(form).toBe('grant_type=client_credentials');
    expect(h.workdayTokens.http.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from(`workday-app:${SECRETS.workdayClientSecret}`).toString('base64')}`,
    );
  });

  it('renews the token before it expires (registry clock)', async () => {
    h = await harness({}, { tokenLifetime: 120 });
    await drive(h, h.client.fetchPurchaseOrders('oracle'));
    h.clock.advance(100_000); // under 90 % of 120 s: still the same token
    await drive(h, h.client.fetchPurchaseOrders('oracle'));
    expect(h.oracleTokens.issued).toHaveLength(1);
    h.clock.advance(10_000); // past 108 s
    await drive(h, h.client.fetchPurchaseOrders('oracle'));
    expect(h.oracleTokens.issued).toHaveLength(2);
    const last = h.oracle.requests('purchaseOrders').at(-1)!;
    expect(last.headers.authorization).toBe(`Bearer ${h.oracleTokens.issued[1]}`);
  });

  it('a token the system refuses (expired early) is fetched anew once, and the page replayed: nothing counted', async () => {
    h = await harness();
    await drive(h, h.client.fetchSuppliers('oracle'));
    h.oracleTokens.expireTokens();
    const result = await drive(h, h.client.fetchSuppliers('oracle'));
    expect(result.source).toBe('live');
    expect(result.value).toHaveLength(DATA.suppliers.length);
    expect(h.oracleTokens.issued).toHaveLength(2);
    expect(h.registry.get('erp_connectors.oracle')!.snapshot().failuresInWindow).toBe(0);
  });
});

describe('credentials refused (HTTP 401, 403)', () => {
  it('a wrong client secret: the token endpoint’s 401 counts against the circuit, is logged at error naming the system, and leaks nothing', async () => {
    const log = capturingLogger();
    h = await harness({}, { logger: log.logger, oracleClientSecret: 'wrong-client-s3cret' });
    const error = await drive(h, h.client.fetchSuppliers('oracle')).catch((e: unknown) => e);
    expect(isErpUnavailableError(error)).toBe(true);
    expect((error as Error).message).toContain(
      'live: oracle failed on page 1 of oracle suppliers: the OAuth2 token endpoint: credentials refused by oracle (HTTP 401): check the ERP credentials',
    );
    expect(h.registry.get('erp_connectors.oracle')!.snapshot().failuresInWindow).toBe(1); // not retried
    const errors = log.lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ system: 'oracle', circuit: 'erp_connectors.oracle', status: 401 });
    expect(errors[0]!.msg).toBe(
      'credentials refused by oracle (the OAuth2 token endpoint) (HTTP 401): check the ERP credentials',
    );
    const shown = inspect(error, { depth: null }) + JSON.stringify(log.lines);
    expect(shown).not.toContain('wrong-client-s3cret');
    expect(leaks(shown)).toEqual([]);
  });

  it('a token endpoint refusing with 400 (invalid_grant) is credentials refused, reported with the status it sent', async () => {
    const log = capturingLogger();
    h = await harness({}, { logger: log.logger });
    h.oracleTokens.mode({ status: 400, body: { error: 'invalid_grant', error_description: 'grant revoked' } });
    const error = await drive(h, h.client.fetchSuppliers('oracle')).catch((e: unknown) => e);
    expect((error as Error).message).toContain('the OAuth2 token endpoint: credentials refused by oracle (HTTP 400)');
    expect(log.lines.filter((l) => l.level === 50)[0]).toMatchObject({ system: 'oracle', status: 400 });
  });

  it.each([401, 403])(
    'HTTP %i from SAP counts against the circuit and opens it, logged at error each time',
    async (status) => {
      const log = capturingLogger();
      h = await harness({}, { logger: log.logger });
      h.sap.mode({
        status,
        body: { error: { code: '/IWFND/CM_CONSUMER/101', message: { lang: 'en', value: 'denied' } } },
      });
      for (let i = 0; i < 3; i++) await drive(h, h.client.fetchSuppliers('sap')).catch(() => {});
      expect(h.registry.get('erp_connectors.sap')!.state).toBe('open');
      expect(h.sap.http.requests).toHaveLength(3); // never retried: a retry cannot fix a credential
      const errors = log.lines.filter((l) => l.level === 50);
      expect(errors.map((l) => l.msg)).toEqual(
        Array(3).fill(`credentials refused by sap (HTTP ${status}): check the ERP credentials`),
      );
      expect(leaks(JSON.stringify(log.lines))).toEqual([]);
    },
  );
});

describe('no secret in an error or a log', () => {
  it.each([
    ['resets the connection', (x: Harness) => x.sap.mode('reset')],
    ['refuses the connection', (x: Harness) => x.sap.http.stop()],
  ])('when SAP %s, util.inspect of the error shows the diagnosis and no password', async (_, fail) => {
    const log = capturingLogger();
    h = await harness({}, { logger: log.logger });
    await fail(h);
    const error = await drive(h, h.client.fetchSuppliers('sap')).catch((e: unknown) => e);
    const shown = inspect(error, { depth: null });
    expect(shown).toMatch(/ECONNRESET|ECONNREFUSED/);
    expect(leaks(shown)).toEqual([]);
    expect(leaks(JSON.stringify(log.lines))).toEqual([]);
    await h.sap.http.start();
  });

  it('when Oracle resets after a token was issued, no token or client secret shows', async () => {
    h = await harness();
    h.oracle.failPage('suppliers', 2, 'reset');
    const error = await drive(h, h.client.fetchSuppliers('oracle')).catch((e: unknown) => e);
    expect(h.oracleTokens.issued.length).toBeGreaterThan(0);
    expect(leaks(inspect(error, { depth: null }))).toEqual([]);
  });

  it('a 400 body echoing the password is redacted in the ErpRequestError', async () => {
    h = await harness();
    h.sap.failPage('suppliers', 1, {
      status: 400,
      body: { error: { code: 'X', message: { lang: 'en', value: `bad user COMM_USER/${SECRETS.sapPassword}` } } },
    });
    const error = await drive(h, h.client.fetchSuppliers('sap')).catch((e: unknown) => e);
    expect((error as Error).message).toContain('bad user COMM_USER/[redacted]');
    expect(leaks(inspect(error, { depth: null }))).toEqual([]);
  });
});
