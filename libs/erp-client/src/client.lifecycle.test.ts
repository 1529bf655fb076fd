import { waitFor } from '@gl-vcci/breaker-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_TTL_MS, FETCH_DEADLINE_MS, type Harness, harness, STALE_MAX_AGE_MS } from '../test/support.js';
import { isErpArgumentError, isErpClosedError } from './errors.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** TCP sockets open in this process (client and simulator ends alike). */
const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

describe('status()', () => {
  it('names every circuit with its state, each system’s bulkhead and resolved settings, and whether the client is closed', async () => {
    h = await harness();
    const system = {
      inFlight: 0,
      maxConcurrent: 2,
      queued: 0,
      maxQueue: 3,
      cacheTtlMs: CACHE_TTL_MS,
      staleMaxAgeMs: STALE_MAX_AGE_MS,
      fetchDeadlineMs: FETCH_DEADLINE_MS,
    };
    expect(h.client.status()).toEqual({
      circuits: {
        'erp_connectors.sap': 'closed',
        'erp_connectors.oracle': 'closed',
        'erp_connectors.workday': 'closed',
      },
      closed: false,
      systems: { sap: system, oracle: system, workday: system },
    });
    await h.client.close();
    expect(h.client.status().closed).toBe(true);
  });
});

describe('close()', () => {
  it('cuts fetches hung on SAP (running and queued) with ErpClosedError, counted against nothing, leaving no timer or socket', async () => {
    h = await harness();
    h.sap.mode('hang');
    const pending = Array.from({ length: 4 }, (_, i) =>
      h.client.fetchPurchaseOrders('sap', { since: `2024-02-0${i + 1}` }).catch((e: unknown) => e),
    );
    await waitFor(() => h.sap.http.requests.length >= 2, 'two requests at SAP');
    await h.client.close();
    for (const error of await Promise.all(pending)) expect(isErpClosedError(error), String(error)).toBe(true);
    expect(h.registry.get('erp_connectors.sap')!.snapshot().failuresInWindow).toBe(0);
    expect(h.clock.pendingTimers).toBe(0);
    await h.sap.close();
    await Promise.all([h.oracle, h.workday, h.oracleTokens, h.workdayTokens].map((s) => s.close()));
    await waitFor(() => sockets() === 0, 'every socket closed');
  });

  it('refuses calls afterwards, and a second close() is harmless', async () => {
    h = await harness();
    await h.client.close();
    await h.client.close();
    await expect(h.client.fetchSuppliers('sap')).rejects.toMatchObject({ code: 'ERP_CLOSED' });
    expect(() => h.client.pages('sap', 'suppliers')).toThrow('The ERP client is closed');
    expect(h.sap.http.requests).toHaveLength(0);
  });
});

describe('bad calls', () => {
  it('name every bad field in one ErpArgumentError, before anything is sent', async () => {
    h = await harness();
    const error = await h.client
      .fetchPurchaseOrders(
        'sapp' as 'sap',
        { since: '2024-02-30', until: 'soon', what: 1 } as never,
        {
          signal: 'x',
        } as never,
      )
      .catch((e: unknown) => e);
    expect(isErpArgumentError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'fetchPurchaseOrders: system: expected one of the configured systems (sap, oracle, workday), got "sapp"; ' +
        'query.since: expected a date YYYY-MM-DD, got "2024-02-30"; query.until: expected a date YYYY-MM-DD, got "soon"; ' +
        'query.what: unknown field (known: since, until); options.signal: expected an AbortSignal, got "x"',
    );
    const quote = await h.client.fetchSuppliers('oracle', { nameStartsWith: "O'Brien" }).catch((e: unknown) => e);
    expect((quote as Error).message).toContain('filters.nameStartsWith: expected 1 to 80 characters without quotes');
    const order = await h.client
      .fetchPurchaseOrders('oracle', { since: '2024-03-01', until: '2024-03-01' })
      .catch((e) => e);
    expect((order as Error).message).toContain(
      'query.until: expected a date after since (2024-03-01), got "2024-03-01"',
    );
    expect(h.sap.http.requests.length + h.oracle.http.requests.length).toBe(0);
  });

  it('a caller abort rejects with its reason at once, no fallback', async () => {
    h = await harness();
    h.sap.mode('hang');
    const controller = new AbortController();
    const pending = h.client.fetchSuppliers('sap', {}, { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(() => h.sap.http.requests.length >= 1, 'the request at SAP');
    controller.abort(new Error('caller gave up'));
    expect(((await pending) as Error).message).toBe('caller gave up');
  });
});
