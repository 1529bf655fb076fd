import { decimal } from '../decimal.js';
import type { PurchaseOrderLine, Supplier } from '../types.js';
import {
  array,
  day,
  dayBefore,
  intParam,
  Malformed,
  object,
  optionalDay,
  optionalText,
  type SystemAdapter,
  text,
} from './adapter.js';

/**
 * Workday: suppliers from the REST API (`/ccx/api/v1/{tenant}/suppliers`, `{ total, data }`,
 * `offset`/`limit` at most 100), purchase-order lines from a RaaS report
 * (`/ccx/service/customreport2/{tenant}/{owner}/{report}?format=json`, `{ Report_Entry }`, one
 * answer: RaaS does not page; prompts `Start_Date` and `End_Date`, inclusive). The REST API takes
 * no name filter: `nameStartsWith` is applied to each page here.
 */
export function workdayAdapter(tenant: string, report: { owner: string; name: string }): SystemAdapter {
  const seg = encodeURIComponent;
  return {
    name: 'workday',
    maxPageSize: 100,
    defaultPageSize: 100,
    first(kind, query, pageSize) {
      if (kind === 'suppliers') {
        return { path: `/ccx/api/v1/${seg(tenant)}/suppliers`, params: { limit: String(pageSize), offset: '0' } };
      }
      const params: Record<string, string> = { format: 'json' };
      if (query.since) params.Start_Date = query.since;
      if (query.until) params.End_Date = dayBefore(query.until);
      return { path: `/ccx/service/customreport2/${seg(tenant)}/${seg(report.owner)}/${seg(report.name)}`, params };
    },
    read(kind, body, request, query) {
      const b = object(body, 'body');
      if (kind === 'purchaseOrders') {
        return { records: array(b.Report_Entry, 'Report_Entry').map((r, i) => line(r, i)), next: undefined };
      }
      const data = array(b.data, 'data');
      if (typeof b.total !== 'number') throw new Malformed('total: expected a number');
      const end = intParam(request, 'offset') + data.length;
      if (end < b.total && data.length === 0) throw new Malformed(`an empty page before total ${b.total}`);
      const all = data.map((r, i) => supplier(r, i));
      const prefix = query.nameStartsWith;
      return {
        records: prefix === undefined ? all : all.filter((s) => s.name.startsWith(prefix)),
        next: end < b.total ? { path: request.path, params: { ...request.params, offset: String(end) } } : undefined,
      };
    },
  };
}

function supplier(raw: unknown, i: number): Supplier {
  const where = `data[${i}]`;
  const r = object(raw, where);
  const id = text(r, 'supplierId', where);
  const status = typeof r.status === 'object' && r.status !== null ? (r.status as Record<string, unknown>) : {};
  const word = [status.id, status.descriptor].find((v) => typeof v === 'string') as string | undefined;
  return {
    system: 'workday',
    id,
    number: id,
    name: text(r, 'descriptor', where),
    active: word === undefined || word.toUpperCase() === 'ACTIVE',
    createdOn: optionalDay(r.createdOn, `${where}.createdOn`),
  };
}

function line(raw: unknown, i: number): PurchaseOrderLine {
  const where = `Report_Entry[${i}]`;
  const r = object(raw, where);
  const amount = decimal(r.Extended_Amount);
  if (amount === undefined) throw new Malformed(`${where}.Extended_Amount: expected a decimal`);
  return {
    system: 'workday',
    orderId: text(r, 'Purchase_Order', where),
    lineId: text(r, 'Line_Number', where),
    supplierId: text(r, 'Supplier_ID', where),
    orderedOn: day(r.Order_Date, `${where}.Order_Date`),
    description: optionalText(r, 'Item_Description'),
    quantity: decimal(r.Quantity) ?? null,
    unit: optionalText(r, 'Unit_of_Measure'),
    amount: { value: amount, currency: text(r, 'Currency', where) },
  };
}
