import { inspect } from 'node:util';
import { track, waitFor } from '@gl-vcci/breaker-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CACHE_TTL_MS,
  CALL_TIMEOUT_MS,
  DATA,
  drive,
  FETCH_DEADLINE_MS,
  type Harness,
  harness,
  STALE_MAX_AGE_MS,
  samples,
  sampleValue,
  waitForRequests,
} from '../test/support.js';
import { isErpRequestError, isErpUnavailableError } from './errors.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const snapshot = (system: string) => h.registry.get(`erp_connectors.${system}`)!.snapshot();

describe('a page that fails', () => {
  it('once (HTTP 503 on page 3 of 5) is retried, and the list is complete and live', async () => {
    h = await harness();
    h.oracle.failPage('suppliers', 3, { status: 503 }, 1);
    const result = await drive(h, h.client.fetchSuppliers('oracle'));
    expect(result.source).toBe('live');
    expect(result.value).toHaveLength(DATA.suppliers.length);
    const offsets = h.oracle.requests('suppliers').map((r) => r.query.get('offset'));
    expect(offsets).toEqual(['0', '500', '1000', '1000', '1500', '2000']);
  });

  it.each([
    ['a reset connection', 'reset' as const],
    ['a body that is not JSON', 'malformed' as const],
    ['a 200 without its records array', { truncate: true as const }],
    ['HTTP 429 with Retry-After', { status: 429, headers: { 'retry-after': '0' } }],
  ])('once with %s is retried too', async (_, fault) => {
    h = await harness();
    h.sap.failPage('suppliers', 2, fault, 1);
    const result = await drive(h, h.client.fetchSuppliers('sap'));
    expect(result).toMatchObject({ source: 'live' });
    expect(result.value).toHaveLength(DATA.suppliers.length);
  });

  it('for good fails the whole fetch: the last complete list answers (cache), never the partial one', async () => {
    h = await harness();
    expect((await drive(h, h.client.fetchSuppliers('workday'))).source).toBe('live');
    h.clock.advance(60_000);
    h.workday.failPage('suppliers', 12, { status: 502 });
    const result = await drive(h, h.client.fetchSuppliers('workday'));
    expect(result.source).toBe('cache');
    expect(result.ageMs).toBeGreaterThanOrEqual(60_000); // drive() moves the clock a few ms more
    expect(result.value).toHaveLength(DATA.suppliers.length);
    // Pages 1-11 were read again, page 12 three times (three attempts), nothing after it.
    const offsets = h.workday
      .requests('suppliers')
      .slice(25)
      .map((r) => Number(r.query.get('offset')));
    expect(offsets).toEqual([...Array.from({ length: 12 }, (_, i) => i * 100), 1100, 1100]);
  });

  it('for good with nothing cached: ErpUnavailableError saying the partial list was dropped', async () => {
    h = await harness();
    h.sap.failPage('purchaseOrders', 4, { status: 500 });
    const error = await drive(h, h.client.fetchPurchaseOrders('sap')).catch((e: unknown) => e);
    expect(isErpUnavailableError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'No complete sap purchase-order list available: live: sap failed on page 4 of sap purchase orders: HTTP 500 ' +
        '(after 3 complete pages; the partial list was dropped); cache: no complete list cached; stale: no complete list cached',
    );
  });

  it('serves a list older than cache_ttl as stale, and none older than stale_max_age', async () => {
    h = await harness();
    await drive(h, h.client.fetchSuppliers('sap'));
    h.sap.mode({ status: 503 });
    h.clock.advance(CACHE_TTL_MS + 1);
    const stale = await drive(h, h.client.fetchSuppliers('sap'));
    expect(stale.source).toBe('stale');
    expect(stale.ageMs).toBeGreaterThan(CACHE_TTL_MS);
    h.clock.advance(STALE_MAX_AGE_MS);
    const error = await drive(h, h.client.fetchSuppliers('sap')).catch((e: unknown) => e);
    // The store kept it exactly as long as it may be served: past that it is gone.
    expect((error as Error).message).toContain('cache: no complete list cached; stale: no complete list cached');
  });

  it('keeps one cache entry per query: another filter has no cached list', async () => {
    h = await harness();
    await drive(h, h.client.fetchPurchaseOrders('oracle', { since: '2024-01-01' }));
    h.oracle.mode({ status: 503 });
    expect((await drive(h, h.client.fetchPurchaseOrders('oracle', { since: '2024-01-01' }))).source).toBe('cache');
    const other = await drive(h, h.client.fetchPurchaseOrders('oracle', { since: '2024-02-01' })).catch((e) => e);
    expect(isErpUnavailableError(other)).toBe(true);
  });
});

describe('the caller’s mistakes', () => {
  it('HTTP 400 is an ErpRequestError: not retried, not counted, not hidden by the cached list', async () => {
    h = await harness();
    await drive(h, h.client.fetchSuppliers('oracle'));
    h.oracle.failPage('suppliers', 1, {
      status: 400,
      body: {
        title: 'Bad Request',
        status: '400',
        'o:errorDetails': [{ detail: 'URL request parameter q is invalid' }],
      },
    });
    const before = h.oracle.requests('suppliers').length;
    const error = await drive(h, h.client.fetchSuppliers('oracle')).catch((e: unknown) => e);
    expect(isErpRequestError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'oracle rejected the request for page 1 of oracle suppliers: HTTP 400 URL request parameter q is invalid',
    );
    expect(h.oracle.requests('suppliers').length).toBe(before + 1);
    expect(snapshot('oracle').failuresInWindow).toBe(0);
  });
});

describe('deadlines', () => {
  it('a hung page fails at the page deadline (call_timeout), counted as a timeout', async () => {
    h = await harness({ retry: { maxAttempts: 1 } });
    h.sap.failPage('suppliers', 2, 'hang');
    const pending = h.client.fetchSuppliers('sap').catch((e: unknown) => e);
    await waitForRequests(h.sap, 'suppliers', 2);
    await h.clock.advanceAsync(CALL_TIMEOUT_MS);
    const error = await pending;
    expect((error as Error).message).toContain('live: Call through "erp_connectors.sap" timed out after 1000 ms');
    expect(await sampleValue(h.prom, 'greenlang_circuit_breaker_calls_total', { status: 'timeout' })).toBe(1);
  });

  it('a slow ERP stops at the whole-fetch deadline (fetch_deadline), which is ours: not counted against it', async () => {
    // The page deadline is set past the fetch deadline, so the fetch's own deadline is what ends it.
    h = await harness({ retry: { maxAttempts: 1 } }, { breaker: { workday: { callTimeoutMs: 60_000 } } });
    h.workday.failPage('suppliers', 3, 'hang');
    const pending = h.client.fetchSuppliers('workday').catch((e: unknown) => e);
    await waitForRequests(h.workday, 'suppliers', 3);
    await h.clock.advanceAsync(FETCH_DEADLINE_MS);
    const error = (await pending) as Error;
    expect(isErpUnavailableError(error)).toBe(true);
    expect(error.message).toContain(
      'live: Call through "erp_connectors.workday (whole fetch)" timed out after 10000 ms (after 2 complete pages; the partial list was dropped)',
    );
    expect(snapshot('workday')).toMatchObject({ failuresInWindow: 0, state: 'closed' });
  });
});

describe('circuits', () => {
  it('are independent per system: SAP refusing connections opens only its own', async () => {
    h = await harness({ retry: { maxAttempts: 1 } });
    await h.sap.http.stop();
    for (let i = 0; i < 3; i++) await drive(h, h.client.fetchSuppliers('sap')).catch(() => {});
    expect(h.client.status().circuits).toEqual({
      'erp_connectors.sap': 'open',
      'erp_connectors.oracle': 'closed',
      'erp_connectors.workday': 'closed',
    });
    expect((await drive(h, h.client.fetchSuppliers('oracle'))).source).toBe('live');
    const refused = await drive(h, h.client.fetchSuppliers('sap')).catch((e: unknown) => e);
    expect((refused as Error).message).toContain('live: Circuit "erp_connectors.sap" is open');
    expect(inspect(refused, { depth: null })).toContain('ECONNREFUSED');
    await h.sap.http.start();
  });

  it('a retry never goes through an open circuit', async () => {
    h = await harness({ retry: { maxAttempts: 5 } });
    h.oracle.failPage('suppliers', 1, { status: 503 });
    await drive(h, h.client.fetchSuppliers('oracle')).catch(() => {});
    // fail_max 3: the third failure opens the circuit and the fourth attempt is refused, unsent.
    expect(h.oracle.requests('suppliers')).toHaveLength(3);
    expect(snapshot('oracle').state).toBe('open');
  });
});

describe('pool protection (bulkhead)', () => {
  it('20 fetches against a hanging SAP: 2 in flight, 3 queued, the rest rejected at once, uncounted; Oracle unaffected', async () => {
    h = await harness();
    h.sap.mode('hang');
    const fetches = Array.from({ length: 20 }, (_, i) =>
      track(h.client.fetchPurchaseOrders('sap', { since: `2024-01-${String(i + 1).padStart(2, '0')}` })),
    );
    await waitFor(() => h.sap.http.requests.length >= 2, 'two requests at SAP'); // 'hang' answers before the handler
    await waitFor(() => fetches.filter((f) => f.status === 'rejected').length === 15, '15 rejections');
    expect(h.client.status().systems.sap).toMatchObject({ inFlight: 2, maxConcurrent: 2, queued: 3, maxQueue: 3 });
    for (const f of fetches.filter((x) => x.status === 'rejected')) {
      expect((f.error as Error).message).toContain('live: Bulkhead full: 2 calls running and 3 queued');
    }
    expect(await samples(h.prom, 'greenlang_erp_bulkhead_in_use')).toContain(
      'greenlang_erp_bulkhead_in_use{system="sap"} 2',
    );
    expect(await samples(h.prom, 'greenlang_erp_bulkhead_queued')).toContain(
      'greenlang_erp_bulkhead_queued{system="sap"} 3',
    );
    expect(snapshot('sap')).toMatchObject({ state: 'closed', failuresInWindow: 0 });
    expect((await drive(h, h.client.fetchSuppliers('oracle'))).source).toBe('live');
    expect(h.sap.http.requests).toHaveLength(2);
  });
});
