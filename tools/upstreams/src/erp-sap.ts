import type { ServerResponse } from 'node:http';
import {
  answerPage,
  authorized,
  type ErpAuth,
  type ErpDataOptions,
  type ErpDataSet,
  type ErpListKind,
  type ErpOrderLineRow,
  type ErpSupplierRow,
  erpDataSet,
  linesBetween,
  type PageFault,
  PageFaults,
  unauthorized,
} from './erp-data.js';
import {
  type FailureMode,
  type HttpSimulator,
  json,
  type SimulatedRequest,
  startHttpSimulator,
} from './http-simulator.js';

export const SAP_SUPPLIERS_PATH = '/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_Supplier';
export const SAP_ITEMS_PATH = '/sap/opu/odata/sap/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrderItem';

export interface SapSimulatorOptions extends ErpDataOptions {
  /** The data served (default `erpDataSet(options)`). */
  data?: ErpDataSet;
  /** Rows the server sends at most per response; beyond it, it pages with `__next` (default 1 000). */
  maxPageSize?: number;
  /** Credentials required (default: none checked). */
  auth?: ErpAuth;
}

export interface SapSimulator {
  readonly url: string;
  readonly http: HttpSimulator;
  readonly data: ErpDataSet;
  /** A failure mode for both entity sets. */
  mode(mode: FailureMode): void;
  /** Page `page` (1-based, in the pages the server serves) of `kind` answers `fault`, `times` times. */
  failPage(kind: ErpListKind, page: number, fault: PageFault, times?: number): void;
  clearFaults(): void;
  /** Requests received for `kind`. */
  requests(kind: ErpListKind): SimulatedRequest[];
  close(): Promise<void>;
}

const sapDate = (day: string) => `/Date(${Date.parse(`${day}T00:00:00Z`)})/`;
const PARTNER = 'API_BUSINESS_PARTNER';
const PURCHASING = 'API_PURCHASEORDER_PROCESS_SRV';

/** SAP's OData v2 error envelope. */
function odataError(res: ServerResponse, status: number, code: string, value: string): void {
  json(res, status, {
    error: { code, message: { lang: 'en', value }, innererror: { transactionid: 'SIM0001', timestamp: '20240101' } },
  });
}

/**
 * SAP S/4HANA Cloud, OData v2, as the two read APIs answer in JSON (`$format=json`):
 * `A_Supplier` (API_BUSINESS_PARTNER) and `A_PurchaseOrderItem` (API_PURCHASEORDER_PROCESS_SRV,
 * with `$expand=to_PurchaseOrder` for the header's supplier, date and currency). Envelope
 * `{ d: { results, __count?, __next? } }`; Decimals are strings, DateTimes `/Date(ms)/`. Paging by
 * `$top`/`$skip`; above `maxPageSize` rows (or without `$top`) the server sends `maxPageSize` and a
 * `__next` URL carrying `$skiptoken`. `$filter` understands `startswith(SupplierName,'…') eq true`
 * and `to_PurchaseOrder/PurchaseOrderDate ge|lt datetime'…'`; anything else is a 400.
 */
export async function startSapSimulator(options: SapSimulatorOptions = {}): Promise<SapSimulator> {
  const data = options.data ?? erpDataSet(options);
  const cap = options.maxPageSize ?? 1_000;
  const faults = new PageFaults();
  const byKind: Record<ErpListKind, SimulatedRequest[]> = { suppliers: [], purchaseOrders: [] };
  let base = '';

  const list = <T>(
    kind: ErpListKind,
    path: string,
    select: (filter: string | null) => T[] | string,
    render: (row: T, expand: boolean) => unknown,
  ) => {
    return async (request: SimulatedRequest, res: ServerResponse) => {
      byKind[kind].push(request);
      const auth = authorized(options.auth, request.headers);
      if (auth !== 'ok')
        return unauthorized(res, {
          error: { code: '/IWFND/MED/170', message: { lang: 'en', value: 'No service found' } },
        });
      const q = request.query;
      if (q.get('$format') !== 'json') return odataError(res, 415, 'SY/530', 'expected $format=json');
      const rows = select(q.get('$filter'));
      if (typeof rows === 'string') return odataError(res, 400, '/IWBEP/CM_MGW_RT/022', rows);
      const skip = Number(q.get('$skiptoken') ?? q.get('$skip') ?? '0');
      const top = q.has('$top') ? Number(q.get('$top')) : Number.POSITIVE_INFINITY;
      if (!Number.isInteger(skip) || skip < 0 || !(top >= 0)) return odataError(res, 400, 'SY/530', 'bad $skip/$top');
      const size = Math.min(top, cap);
      const page = Math.floor(skip / Math.max(1, size)) + 1;
      const expand = (q.get('$expand') ?? '').split(',').includes('to_PurchaseOrder');
      const healthy = () => {
        const slice = rows.slice(skip, skip + size);
        const d: Record<string, unknown> = { results: slice.map((row) => render(row, expand)) };
        if (q.get('$inlinecount') === 'allpages') d.__count = String(rows.length);
        const end = skip + slice.length;
        if (top > cap && end < rows.length) {
          const next = new URLSearchParams(q);
          next.delete('$skip');
          next.set('$skiptoken', String(end));
          d.__next = `${base}${path}?${next.toString()}`;
        }
        json(res, 200, { d });
      };
      await answerPage(faults.take(kind, page), res, healthy, { d: { __count: String(rows.length) } });
    };
  };

  const supplier = (s: ErpSupplierRow) => {
    const id = String(17_300_000 + s.index);
    const uri = `${base}/sap/opu/odata/sap/${PARTNER}/A_Supplier('${id}')`;
    return {
      __metadata: { id: uri, uri, type: `${PARTNER}.A_SupplierType` },
      Supplier: id,
      SupplierName: s.name,
      SupplierFullName: s.name,
      SupplierAccountGroup: 'SUPL',
      CreationDate: sapDate(s.createdOn),
      PurchasingIsBlocked: !s.active,
      PostingIsBlocked: false,
      DeletionIndicator: false,
      to_SupplierCompany: { __deferred: { uri: `${uri}/to_SupplierCompany` } },
    };
  };

  const item = (l: ErpOrderLineRow, expand: boolean) => {
    const order = String(4_500_000_000 + l.order);
    const uri = `${base}/sap/opu/odata/sap/${PURCHASING}/A_PurchaseOrderItem(PurchaseOrder='${order}',PurchaseOrderItem='${l.line * 10}')`;
    // Every fifth line is priced per 10 units, as SAP allows (NetPriceAmount per NetPriceQuantity).
    const per10 = l.line % 5 === 0;
    const price = per10 ? shift(l.unitPrice) : l.unitPrice;
    return {
      __metadata: { id: uri, uri, type: `${PURCHASING}.A_PurchaseOrderItemType` },
      PurchaseOrder: order,
      PurchaseOrderItem: String(l.line * 10),
      PurchaseOrderItemText: l.description,
      OrderQuantity: l.quantity,
      PurchaseOrderQuantityUnit: l.unit,
      NetPriceAmount: price,
      NetPriceQuantity: per10 ? '10' : '1',
      DocumentCurrency: l.currency,
      to_PurchaseOrder: expand
        ? {
            __metadata: { type: `${PURCHASING}.A_PurchaseOrderType` },
            PurchaseOrder: order,
            Supplier: String(17_300_000 + l.supplier),
            CompanyCode: '1010',
            PurchaseOrderDate: sapDate(l.orderedOn),
            DocumentCurrency: l.currency,
          }
        : { __deferred: { uri: `${uri}/to_PurchaseOrder` } },
    };
  };

  const http = await startHttpSimulator({
    [`GET ${SAP_SUPPLIERS_PATH}`]: list('suppliers', SAP_SUPPLIERS_PATH, selectSuppliers(data), supplier),
    [`GET ${SAP_ITEMS_PATH}`]: list('purchaseOrders', SAP_ITEMS_PATH, selectItems(data), item),
  });
  base = http.url;
  return {
    url: http.url,
    http,
    data,
    mode: (mode) => http.mode('*', mode),
    failPage: (kind, page, fault, times) => faults.set(kind, page, fault, times),
    clearFaults: () => faults.clear(),
    requests: (kind) => byKind[kind],
    close: () => http.close(),
  };
}

function selectSuppliers(data: ErpDataSet) {
  return (filter: string | null): ErpSupplierRow[] | string => {
    if (filter === null) return data.suppliers;
    const m = /^startswith\(SupplierName,'((?:[^']|'')*)'\) eq true$/.exec(filter);
    if (!m) return `unsupported $filter ${filter}`;
    const prefix = m[1]!.replaceAll("''", "'");
    return data.suppliers.filter((s) => s.name.startsWith(prefix));
  };
}

function selectItems(data: ErpDataSet) {
  return (filter: string | null): ErpOrderLineRow[] | string => {
    let since: string | undefined;
    let until: string | undefined;
    for (const part of filter === null ? [] : filter.split(' and ')) {
      const m = /^to_PurchaseOrder\/PurchaseOrderDate (ge|lt) datetime'(\d{4}-\d{2}-\d{2})T00:00:00'$/.exec(part);
      if (!m) return `unsupported $filter ${filter}`;
      if (m[1] === 'ge') since = m[2];
      else until = m[2];
    }
    return linesBetween(data.lines, since, until);
  };
}

/** A 3-decimal string × 10. */
function shift(price: string): string {
  const [int = '0', frac = '000'] = price.split('.');
  const digits = `${int}${frac[0]}`.replace(/^0+(?=\d)/, '');
  return `${digits}.${frac.slice(1)}0`;
}
