import { decimal, formatDecimal, multiply, parseDecimal } from '../decimal.js';
import type { PurchaseOrderLine, Supplier } from '../types.js';
import {
  array,
  day,
  intParam,
  Malformed,
  object,
  optionalDay,
  optionalText,
  type SystemAdapter,
  text,
} from './adapter.js';

const ROOT = '/fscmRestApi/resources/11.13.18.05';

/**
 * Oracle Fusion Cloud Procurement REST: `suppliers` and `purchaseOrders?expand=lines`, JSON
 * `{ items, count, hasMore, limit, offset }`, paged by `offset`/`limit` (at most 500). Numbers are
 * JSON numbers: an amount is the line's `Quantity` × `Price` in exact decimals, in the order's
 * `CurrencyCode`. `q` literals follow REST framework v2+ (` and `).
 */
export function oracleAdapter(): SystemAdapter {
  return {
    name: 'oracle',
    maxPageSize: 500,
    defaultPageSize: 500,
    first(kind, query, pageSize) {
      const params: Record<string, string> = { onlyData: 'true', limit: String(pageSize), offset: '0' };
      if (kind === 'suppliers') {
        params.orderBy = 'SupplierId:asc';
        params.fields = 'SupplierId,SupplierNumber,Supplier,Status,CreationDate';
        if (query.nameStartsWith !== undefined) params.q = `Supplier LIKE '${query.nameStartsWith}%'`;
        return { path: `${ROOT}/suppliers`, params };
      }
      params.expand = 'lines';
      params.orderBy = 'POHeaderId:asc';
      const range = [
        ...(query.since ? [`CreationDate>='${query.since}'`] : []),
        ...(query.until ? [`CreationDate<'${query.until}'`] : []),
      ];
      if (range.length > 0) params.q = range.join(' and ');
      return { path: `${ROOT}/purchaseOrders`, params };
    },
    read(kind, body, request) {
      const b = object(body, 'body');
      const items = array(b.items, 'items');
      if (typeof b.hasMore !== 'boolean') throw new Malformed('hasMore: expected a boolean');
      if (b.hasMore && items.length === 0) throw new Malformed('hasMore is true on an empty page');
      const records =
        kind === 'suppliers' ? items.map((r, i) => supplier(r, i)) : items.flatMap((r, i) => orderLines(r, i));
      const offset = intParam(request, 'offset') + items.length;
      return {
        records,
        next: b.hasMore ? { path: request.path, params: { ...request.params, offset: String(offset) } } : undefined,
      };
    },
  };
}

function supplier(raw: unknown, i: number): Supplier {
  const where = `items[${i}]`;
  const r = object(raw, where);
  const id = text(r, 'SupplierId', where);
  const status = optionalText(r, 'Status');
  return {
    system: 'oracle',
    id,
    number: optionalText(r, 'SupplierNumber') ?? id,
    name: text(r, 'Supplier', where),
    active: status === null || status.toUpperCase() === 'ACTIVE',
    createdOn: optionalDay(r.CreationDate, `${where}.CreationDate`),
  };
}

function orderLines(raw: unknown, i: number): PurchaseOrderLine[] {
  const where = `items[${i}]`;
  const r = object(raw, where);
  const orderId = text(r, 'OrderNumber', where);
  const supplierId = text(r, 'SupplierId', where);
  const orderedOn = day(r.CreationDate, `${where}.CreationDate`);
  const currency = text(r, 'CurrencyCode', where);
  return array(r.lines, `${where}.lines`).map((rawLine, j) => {
    const at = `${where}.lines[${j}]`;
    const l = object(rawLine, at);
    const quantity = parseDecimal(l.Quantity);
    const price = parseDecimal(l.Price);
    if (!quantity) throw new Malformed(`${at}.Quantity: expected a number`);
    if (!price) throw new Malformed(`${at}.Price: expected a number`);
    return {
      system: 'oracle',
      orderId,
      lineId: text(l, 'LineNumber', at),
      supplierId,
      orderedOn,
      description: optionalText(l, 'Description'),
      quantity: decimal(l.Quantity) ?? null,
      unit: optionalText(l, 'UOMCode'),
      amount: { value: formatDecimal(multiply(quantity, price)), currency },
    };
  });
}
