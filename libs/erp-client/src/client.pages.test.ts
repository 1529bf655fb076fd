import { afterEach, describe, expect, it } from 'vitest';
import { DATA, drive, type Harness, harness, OPEN_DURATION_MS } from '../test/support.js';
import { type ErpPageError, isErpArgumentError, isErpPageError } from './errors.js';
import type { ErpPage, Supplier } from './types.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function collect<T>(pages: AsyncIterable<ErpPage<T>>): Promise<ErpPage<T>[]> {
  const out: ErpPage<T>[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('pages()', () => {
  it('yields every page in order, each with the cursor of the next; the last has none', async () => {
    h = await harness();
    const pages = await drive(h, collect(h.client.pages('oracle', 'suppliers')));
    expect(pages.map((p) => [p.page, p.records.length])).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
      [4, 500],
      [5, 500],
    ]);
    expect(pages.slice(0, -1).every((p) => typeof p.cursor === 'string')).toBe(true);
    expect(pages.at(-1)!.cursor).toBeUndefined();
    expect(pages.flatMap((p) => p.records.map((s) => s.name))).toEqual(DATA.suppliers.map((s) => s.name));
  });

  it('a page failing for good throws ErpPageError carrying the cursor to resume at that page', async () => {
    h = await harness();
    h.workday.failPage('suppliers', 7, { status: 503 }, 3); // every attempt of the walk
    const read: Supplier[] = [];
    const error = await drive(
      h,
      (async () => {
        for await (const page of h.client.pages('workday', 'suppliers')) read.push(...page.records);
      })(),
    ).catch((e: unknown) => e);
    expect(isErpPageError(error)).toBe(true);
    const e = error as ErpPageError;
    expect(e.pagesRead).toBe(6);
    expect(e.target).toEqual({ system: 'workday', kind: 'suppliers', page: 7 });
    expect(e.message).toContain('workday walk stopped at page 7 of workday suppliers (6 read)');
    // Three failed attempts opened the circuit (fail_max 3): resume once it lets a trial through.
    expect(h.registry.get('erp_connectors.workday')!.state).toBe('open');
    h.clock.advance(OPEN_DURATION_MS);
    const rest = await drive(h, collect(h.client.pages('workday', 'suppliers', {}, { cursor: e.cursor })));
    expect(rest[0]!.page).toBe(7);
    read.push(...rest.flatMap((p) => p.records));
    expect(read.map((s) => s.name)).toEqual(DATA.suppliers.map((s) => s.name));
  });

  it('resumes SAP at a page reached through __next', async () => {
    h = await harness({}, { sapMaxPageSize: 400 });
    const first = await drive(h, h.client.pages('sap', 'purchaseOrders')[Symbol.asyncIterator]().next());
    const cursor = (first.value as ErpPage<unknown>).cursor!;
    const rest = await drive(h, collect(h.client.pages('sap', 'purchaseOrders', undefined, { cursor })));
    expect(400 + rest.reduce((n, p) => n + p.records.length, 0)).toBe(DATA.lines.length);
    expect(h.sap.requests('purchaseOrders')[1]!.query.get('$skiptoken')).toBe('400');
  });

  it('refuses a cursor of another query, a damaged one, and a bad call, before sending anything', async () => {
    h = await harness();
    const first = await drive(h, h.client.pages('oracle', 'suppliers')[Symbol.asyncIterator]().next());
    const cursor = (first.value as ErpPage<unknown>).cursor!;
    const sent = h.oracle.requests('suppliers').length;
    const wrong = [
      () => h.client.pages('oracle', 'suppliers', { nameStartsWith: 'Acme' }, { cursor }),
      () => h.client.pages('oracle', 'suppliers', {}, { cursor: `${cursor.slice(0, -4)}AAAA` }),
      () => h.client.pages('sap', 'suppliers', {}, { cursor }),
      () => h.client.pages('oracle', 'invoices' as 'suppliers'),
    ];
    for (const call of wrong) {
      let thrown: unknown;
      try {
        call();
      } catch (error) {
        thrown = error;
      }
      expect(isErpArgumentError(thrown), String(thrown)).toBe(true);
    }
    expect(h.oracle.requests('suppliers').length).toBe(sent);
  });
});
