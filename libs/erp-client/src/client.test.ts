import { lineAmount } from '@gl-vcci/upstreams/erp-data';
import { afterEach, describe, expect, it } from 'vitest';
import { canonical, DATA, drive, type Harness, harness, SYSTEMS, samples } from '../test/support.js';
import type { ErpSystem, PurchaseOrderLine, Supplier } from './types.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const PAGES: Record<ErpSystem, number> = { sap: 6, oracle: 5, workday: 25 }; // SAP: 5 full pages of 500, then an empty one

describe('paging across every page', () => {
  it.each(SYSTEMS)('%s: every supplier, live, in the normalized shape', async (system) => {
    h = await harness();
    const result = await drive(h, h.client.fetchSuppliers(system));
    expect(result.source).toBe('live');
    expect(result.value).toHaveLength(DATA.suppliers.length);
    expect(result.value.map((s) => s.name)).toEqual(DATA.suppliers.map((s) => s.name));
    expect(result.value.filter((s) => !s.active).length).toBe(DATA.suppliers.filter((s) => !s.active).length);
    expect(h.sim(system).requests('suppliers')).toHaveLength(PAGES[system]);
    expect(await samples(h.prom, 'greenlang_erp_pages_total')).toContain(
      `greenlang_erp_pages_total{system="${system}"} ${PAGES[system]}`,
    );
    expect(await samples(h.prom, 'greenlang_erp_records_fetched_total')).toContain(
      `greenlang_erp_records_fetched_total{system="${system}",kind="suppliers"} ${DATA.suppliers.length}`,
    );
  });

  it.each(SYSTEMS)('%s: every purchase-order line, each amount exact', async (system) => {
    h = await harness();
    const result = await drive(h, h.client.fetchPurchaseOrders(system));
    expect(result.source).toBe('live');
    expect(result.value).toHaveLength(DATA.lines.length);
    const expected = DATA.lines.map((l) => `${canonical(lineAmount(l))} ${l.currency} ${l.orderedOn}`).sort();
    expect(result.value.map((l) => `${l.amount.value} ${l.amount.currency} ${l.orderedOn}`).sort()).toEqual(expected);
    for (const line of result.value) expect(typeof line.amount.value).toBe('string');
  });

  it('SAP follows __next when the server pages below the $top asked, on the same service only', async () => {
    h = await harness({}, { sapMaxPageSize: 300 });
    const result = await drive(h, h.client.fetchSuppliers('sap'));
    expect(result.value).toHaveLength(DATA.suppliers.length);
    const requests = h.sap.requests('suppliers');
    expect(requests).toHaveLength(Math.ceil(DATA.suppliers.length / 300));
    expect(requests[1]!.query.get('$skiptoken')).toBe('300');
  });

  it('filters suppliers by name prefix and order lines by date the same way on every system', async () => {
    h = await harness();
    const since = '2024-03-01';
    const until = '2024-04-01';
    const lines = DATA.lines.filter((l) => l.orderedOn >= since && l.orderedOn < until).length;
    const acme = DATA.suppliers.filter((s) => s.name.startsWith('Acme')).length;
    for (const system of SYSTEMS) {
      const suppliers = await drive(h, h.client.fetchSuppliers(system, { nameStartsWith: 'Acme' }));
      expect(suppliers.value.length, system).toBe(acme);
      const orders = await drive(h, h.client.fetchPurchaseOrders(system, { since, until }));
      expect(orders.value.length, system).toBe(lines);
      expect(orders.value.every((l) => l.orderedOn >= since && l.orderedOn < until)).toBe(true);
    }
  });
});

describe('normalized shapes', () => {
  const shape = (record: object) =>
    Object.entries(record)
      .map(([k, v]) => `${k}:${v === null ? 'null' : typeof v === 'object' ? Object.keys(v).join('+') : typeof v}`)
      .sort()
      .join(', ');

  it('are identical across the three systems, with the same values for the same supplier and line', async () => {
    h = await harness();
    const suppliers: Supplier[] = [];
    const lines: PurchaseOrderLine[] = [];
    for (const system of SYSTEMS) {
      suppliers.push((await drive(h, h.client.fetchSuppliers(system))).value[0]!);
      const all = (await drive(h, h.client.fetchPurchaseOrders(system))).value;
      lines.push(all[0]!); // order 1, line 1 on every system
    }
    expect(new Set(suppliers.map(shape)).size).toBe(1);
    expect(new Set(lines.map(shape)).size).toBe(1);
    expect(shape(suppliers[0]!)).toBe(
      'active:boolean, createdOn:string, id:string, name:string, number:string, system:string',
    );
    expect(shape(lines[0]!)).toBe(
      'amount:value+currency, description:string, lineId:string, orderId:string, orderedOn:string, quantity:string, supplierId:string, system:string, unit:string',
    );
    const same = ({ name, active, createdOn }: Supplier) => ({ name, active, createdOn });
    expect(suppliers.map(same)).toEqual([same(suppliers[0]!), same(suppliers[0]!), same(suppliers[0]!)]);
    const line = ({ amount, quantity, unit, orderedOn, description }: PurchaseOrderLine) => ({
      amount,
      quantity,
      unit,
      orderedOn,
      description,
    });
    expect(lines.map(line)).toEqual([line(lines[0]!), line(lines[0]!), line(lines[0]!)]);
  });
});
