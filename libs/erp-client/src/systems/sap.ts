import { decimal, divide, formatDecimal, multiply, parseDecimal } from '../decimal.js';
import type { PurchaseOrderLine, Supplier } from '../types.js';
import {
  array,
  day,
  intParam,
  Malformed,
  object,
  optionalDay,
  optionalText,
  type PageRequest,
  type SystemAdapter,
  text,
} from './adapter.js';

const SUPPLIERS = '/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_Supplier';
const ITEMS = '/sap/opu/odata/sap/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrderItem';

/** An OData v2 string literal: quotes doubled. */
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * SAP S/4HANA, OData v2 in JSON: `A_Supplier` of API_BUSINESS_PARTNER and `A_PurchaseOrderItem` of
 * API_PURCHASEORDER_PROCESS_SRV with its header expanded (`to_PurchaseOrder`: supplier, date).
 * Envelope `{ d: { results, __next? } }`. Paging: `$top`/`$skip`; when the server pages itself it
 * sends `__next` (with `$skiptoken`), followed as given but only on the same origin and entity set,
 * since our credentials go with it. Reads need no CSRF token.
 */
export function sapAdapter(baseUrl: string, sapClient: string | undefined): SystemAdapter {
  const origin = new URL(baseUrl).origin;
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
  const common = (top: number): Record<string, string> => ({
    $format: 'json',
    $top: String(top),
    $skip: '0',
    ...(sapClient === undefined ? {} : { 'sap-client': sapClient }),
  });
  return {
    name: 'sap',
    maxPageSize: 5_000,
    defaultPageSize: 500,
    first(kind, query, pageSize) {
      if (kind === 'suppliers') {
        const params = { ...common(pageSize), $orderby: 'Supplier' };
        if (query.nameStartsWith !== undefined) {
          Object.assign(params, { $filter: `startswith(SupplierName,${literal(query.nameStartsWith)}) eq true` });
        }
        return { path: SUPPLIERS, params };
      }
      const range = [
        ...(query.since ? [`to_PurchaseOrder/PurchaseOrderDate ge datetime'${query.since}T00:00:00'`] : []),
        ...(query.until ? [`to_PurchaseOrder/PurchaseOrderDate lt datetime'${query.until}T00:00:00'`] : []),
      ];
      const params = { ...common(pageSize), $expand: 'to_PurchaseOrder', $orderby: 'PurchaseOrder,PurchaseOrderItem' };
      if (range.length > 0) Object.assign(params, { $filter: range.join(' and ') });
      return { path: ITEMS, params };
    },
    read(kind, body, request) {
      const d = object(object(body, 'body').d, 'd');
      const results = array(d.results, 'd.results');
      const records = results.map((r, i) => (kind === 'suppliers' ? supplier(r, i) : item(r, i)));
      return { records, next: next(d.__next, request, results.length) };
    },
  };

  function next(link: unknown, request: PageRequest, received: number): PageRequest | undefined {
    if (typeof link === 'string' && link !== '') {
      let url: URL;
      try {
        url = new URL(link, `${origin}${basePath}/`);
      } catch {
        throw new Malformed('d.__next: expected a URL');
      }
      if (url.origin !== origin || !url.pathname.endsWith(request.path)) {
        throw new Malformed('d.__next: points outside this service (not followed with our credentials)');
      }
      return { path: request.path, params: Object.fromEntries(url.searchParams) };
    }
    // Client-driven paging: a full page means there may be more (a page read through $skiptoken never does).
    const top = intParam(request, '$top');
    if (request.params.$skiptoken !== undefined || received < top || top === 0) return undefined;
    return { path: request.path, params: { ...request.params, $skip: String(intParam(request, '$skip') + top) } };
  }
}

function supplier(raw: unknown, i: number): Supplier {
  const where = `d.results[${i}]`;
  const r = object(raw, where);
  const id = text(r, 'Supplier', where);
  return {
    system: 'sap',
    id,
    number: id,
    name: text(r, 'SupplierName', where),
    active: r.PurchasingIsBlocked !== true && r.DeletionIndicator !== true,
    createdOn: optionalDay(r.CreationDate, `${where}.CreationDate`),
  };
}

function item(raw: unknown, i: number): PurchaseOrderLine {
  const where = `d.results[${i}]`;
  const r = object(raw, where);
  const head = object(r.to_PurchaseOrder, `${where}.to_PurchaseOrder`);
  if ('__deferred' in head) throw new Malformed(`${where}.to_PurchaseOrder: not expanded`);
  const quantity = parseDecimal(r.OrderQuantity);
  const price = parseDecimal(r.NetPriceAmount);
  const per = r.NetPriceQuantity === undefined ? { units: 1n, scale: 0 } : parseDecimal(r.NetPriceQuantity);
  if (!quantity) throw new Malformed(`${where}.OrderQuantity: expected a decimal string`);
  if (!price) throw new Malformed(`${where}.NetPriceAmount: expected a decimal string`);
  const amount = per && divide(multiply(quantity, price), per);
  if (!amount) throw new Malformed(`${where}.NetPriceQuantity: expected a non-zero decimal string`);
  const currency = optionalText(r, 'DocumentCurrency') ?? text(head, 'DocumentCurrency', `${where}.to_PurchaseOrder`);
  return {
    system: 'sap',
    orderId: text(r, 'PurchaseOrder', where),
    lineId: text(r, 'PurchaseOrderItem', where),
    supplierId: text(head, 'Supplier', `${where}.to_PurchaseOrder`),
    orderedOn: day(head.PurchaseOrderDate, `${where}.to_PurchaseOrder.PurchaseOrderDate`),
    description: optionalText(r, 'PurchaseOrderItemText'),
    quantity: decimal(r.OrderQuantity) ?? null,
    unit: optionalText(r, 'PurchaseOrderQuantityUnit'),
    amount: { value: formatDecimal(amount), currency },
  };
}
