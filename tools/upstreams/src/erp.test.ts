import { afterEach, describe, expect, it } from 'vitest';
import { erpDataSet, lineAmount } from './erp-data.js';
import { startOAuth2Simulator } from './erp-oauth2.js';
import { ORACLE_BASE_PATH, startOracleSimulator } from './erp-oracle.js';
import { SAP_ITEMS_PATH, SAP_SUPPLIERS_PATH, startSapSimulator } from './erp-sap.js';
import { startWorkdaySimulator } from './erp-workday.js';

const closing: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((s) => s.close()));
});
const track = <T extends { close(): Promise<void> }>(s: T) => {
  closing.push(s);
  return s;
};
const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('the ERP data set', () => {
  it('is the same for the same seed, with a few thousand suppliers and lines', () => {
    const a = erpDataSet();
    expect(a).toEqual(erpDataSet());
    expect(a.suppliers.length).toBe(2_500);
    expect(a.lines.length).toBeGreaterThan(2_000);
    expect(lineAmount({ ...a.lines[0]!, quantity: '5.000', unitPrice: '12.500' })).toBe('62.500000');
  });
});

describe('SAP simulator', () => {
  it('pages with $top/$skip, and past its cap with __next carrying $skiptoken', async () => {
    const sap = track(await startSapSimulator({ suppliers: 25, maxPageSize: 10 }));
    const first = await get(`${sap.url}${SAP_SUPPLIERS_PATH}?$format=json&$top=5&$skip=20&$inlinecount=allpages`);
    expect(first.body.d).toMatchObject({ __count: '25' });
    expect((first.body.d as { results: unknown[] }).results).toHaveLength(5);
    const capped = await get(`${sap.url}${SAP_SUPPLIERS_PATH}?$format=json&$top=100`);
    const d = capped.body.d as { results: Array<{ Supplier: string; CreationDate: string }>; __next: string };
    expect(d.results).toHaveLength(10);
    expect(d.results[0]).toMatchObject({
      Supplier: '17300001',
      CreationDate: expect.stringMatching(/^\/Date\(\d+\)\/$/),
    });
    expect(d.__next).toContain('%24skiptoken=10');
  });

  it('expands the order header on items, and fails the page it is told to', async () => {
    const sap = track(await startSapSimulator({ orders: 20 }));
    sap.failPage('purchaseOrders', 2, { status: 503 }, 1);
    const url = `${sap.url}${SAP_ITEMS_PATH}?$format=json&$expand=to_PurchaseOrder&$top=5`;
    const ok = await get(url);
    const item = (ok.body.d as { results: Array<Record<string, unknown>> }).results[0]!;
    expect(item.to_PurchaseOrder).toMatchObject({ Supplier: expect.any(String), DocumentCurrency: expect.any(String) });
    expect((await get(`${url}&$skip=5`)).status).toBe(503);
    expect((await get(`${url}&$skip=5`)).status).toBe(200);
  });
});

describe('Oracle simulator', () => {
  it('caps limit at 500 and says hasMore', async () => {
    const oracle = track(await startOracleSimulator());
    const page = await get(`${oracle.url}${ORACLE_BASE_PATH}/suppliers?limit=1000&offset=0&onlyData=true`);
    expect(page.body).toMatchObject({ count: 500, hasMore: true, limit: 500, offset: 0 });
  });

  it('requires a valid bearer token when given an OAuth2 check', async () => {
    const oauth = track(await startOAuth2Simulator({ clients: { app: 's3cret' }, expiresIn: 60 }));
    const oracle = track(await startOracleSimulator({ auth: { bearer: oauth.isValid } }));
    const token = await fetch(oauth.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${btoa('app:s3cret')}` },
      body: 'grant_type=client_credentials',
    });
    expect(token.headers.get('cache-control')).toBe('no-store');
    const { access_token, expires_in } = (await token.json()) as { access_token: string; expires_in: number };
    expect(expires_in).toBe(60);
    const url = `${oracle.url}${ORACLE_BASE_PATH}/purchaseOrders?expand=lines&limit=2`;
    expect((await get(url, { authorization: `Bearer ${access_token}` })).status).toBe(200);
    oauth.expireTokens();
    const expired = await fetch(url, { headers: { authorization: `Bearer ${access_token}` } });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('invalid_token');
  });
});

describe('Workday simulator', () => {
  it('refuses a REST limit above 100 and answers the RaaS report in one piece', async () => {
    const wd = track(await startWorkdaySimulator({ orders: 30 }));
    expect((await get(`${wd.url}/ccx/api/v1/gl_vcci/suppliers?limit=101`)).status).toBe(400);
    const page = await get(`${wd.url}/ccx/api/v1/gl_vcci/suppliers?limit=100&offset=2400`);
    expect(page.body).toMatchObject({ total: 2_500 });
    const report = await get(`${wd.url}/ccx/service/customreport2/gl_vcci/isu/PO_Lines?format=json`);
    expect((report.body.Report_Entry as unknown[]).length).toBe(wd.data.lines.length);
  });
});
