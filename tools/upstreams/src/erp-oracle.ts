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

export const ORACLE_BASE_PATH = '/fscmRestApi/resources/11.13.18.05';

export interface OracleSimulatorOptions extends ErpDataOptions {
  data?: ErpDataSet;
  /** Credentials required (default: none checked). */
  auth?: ErpAuth;
}

export interface OracleSimulator {
  readonly url: string;
  readonly http: HttpSimulator;
  readonly data: ErpDataSet;
  mode(mode: FailureMode): void;
  /** Page `page` (1-based: offset / limit + 1) of `kind` answers `fault`, `times` times. */
  failPage(kind: ErpListKind, page: number, fault: PageFault, times?: number): void;
  clearFaults(): void;
  requests(kind: ErpListKind): SimulatedRequest[];
  close(): Promise<void>;
}

/** Oracle's REST limit: at most 500 rows a page, whatever is asked. */
export const ORACLE_MAX_LIMIT = 500;

const CURRENCY_NAMES: Record<string, string> = { EUR: 'Euro', USD: 'US Dollar', GBP: 'Pound Sterling' };

/** Framework v4's error body (`application/vnd.oracle.adf.error+json`). */
function adfError(res: ServerResponse, status: number, detail: string): void {
  res.writeHead(status, { 'content-type': 'application/vnd.oracle.adf.error+json' });
  res.end(
    JSON.stringify({
      title: status === 400 ? 'Bad Request' : 'Error',
      status: String(status),
      'o:errorDetails': [{ detail, 'o:errorCode': '27024', 'o:errorPath': '' }],
    }),
  );
}

/**
 * Oracle Fusion Cloud Procurement REST (`/fscmRestApi/resources/11.13.18.05/`): `suppliers` and
 * `purchaseOrders` (with `expand=lines`). Envelope `{ items, count, hasMore, limit, offset, links,
 * totalResults? }`; `limit` defaults to 25 and is capped at 500 by the server; numbers are JSON
 * numbers. `q` understands `Supplier LIKE '…%'` and `CreationDate>='YYYY-MM-DD'` /
 * `CreationDate<'YYYY-MM-DD'` joined by ` and `; anything else is a 400.
 */
export async function startOracleSimulator(options: OracleSimulatorOptions = {}): Promise<OracleSimulator> {
  const data = options.data ?? erpDataSet(options);
  const faults = new PageFaults();
  const byKind: Record<ErpListKind, SimulatedRequest[]> = { suppliers: [], purchaseOrders: [] };
  const orders = groupOrders(data.lines);
  const names = new Map(data.suppliers.map((s) => [s.index, s.name]));
  let base = '';

  const list = <T>(kind: ErpListKind, select: (q: string | null) => T[] | string, render: (row: T) => unknown) => {
    return async (request: SimulatedRequest, res: ServerResponse) => {
      byKind[kind].push(request);
      if (authorized(options.auth, request.headers) !== 'ok') return unauthorized(res, 'Unauthorized');
      const rows = select(request.query.get('q'));
      if (typeof rows === 'string') return adfError(res, 400, rows);
      const limit = Math.min(Number(request.query.get('limit') ?? '25'), ORACLE_MAX_LIMIT);
      const offset = Number(request.query.get('offset') ?? '0');
      if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
        return adfError(res, 400, 'limit and offset must be non-negative integers');
      }
      const page = Math.floor(offset / limit) + 1;
      const healthy = () => {
        const items = rows.slice(offset, offset + limit).map(render);
        const body: Record<string, unknown> = {
          items,
          count: items.length,
          hasMore: offset + items.length < rows.length,
          limit,
          offset,
          links: [{ rel: 'self', href: `${base}${request.path}`, name: kind, kind: 'collection' }],
        };
        if (request.query.get('totalResults') === 'true') body.totalResults = rows.length;
        json(res, 200, body);
      };
      await answerPage(faults.take(kind, page), res, healthy, { count: 0, hasMore: false, limit, offset });
    };
  };

  const supplier = (s: ErpSupplierRow) => ({
    SupplierId: 300_000_000_000_000 + s.index,
    SupplierNumber: String(1_000 + s.index),
    Supplier: s.name,
    SupplierType: 'Supplier',
    BusinessRelationship: 'Spend Authorized',
    Status: s.active ? 'ACTIVE' : 'INACTIVE',
    CreationDate: `${s.createdOn}T08:30:00+00:00`,
  });

  const order = (lines: ErpOrderLineRow[]) => {
    const head = lines[0]!;
    return {
      POHeaderId: 300_000_025_673_000 + head.order,
      OrderNumber: `US${164_000 + head.order}`,
      SupplierId: 300_000_000_000_000 + head.supplier,
      Supplier: names.get(head.supplier) ?? '',
      Status: 'OPEN',
      Currency: CURRENCY_NAMES[head.currency] ?? head.currency,
      CurrencyCode: head.currency,
      ProcurementBU: 'US1 Business Unit',
      CreationDate: `${head.orderedOn}T10:15:00+00:00`,
      lines: lines.map((l) => ({
        POLineId: 300_000_025_700_000 + head.order * 10 + l.line,
        LineNumber: l.line,
        Description: l.description,
        Quantity: Number(l.quantity),
        UOMCode: l.unit,
        Price: Number(l.unitPrice),
      })),
    };
  };

  const root = ORACLE_BASE_PATH;
  const http = await startHttpSimulator({
    [`GET ${root}/suppliers`]: list('suppliers', selectSuppliers(data), supplier),
    [`GET ${root}/purchaseOrders`]: list('purchaseOrders', selectOrders(orders), order),
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

function groupOrders(lines: readonly ErpOrderLineRow[]): ErpOrderLineRow[][] {
  const byOrder = new Map<number, ErpOrderLineRow[]>();
  for (const line of lines) {
    const list = byOrder.get(line.order) ?? [];
    list.push(line);
    byOrder.set(line.order, list);
  }
  return [...byOrder.values()];
}

function selectSuppliers(data: ErpDataSet) {
  return (q: string | null): ErpSupplierRow[] | string => {
    if (q === null) return data.suppliers;
    const m = /^Supplier LIKE '((?:[^'%]|'')*)%'$/.exec(q);
    if (!m) return `unsupported q ${q}`;
    const prefix = m[1]!.replaceAll("''", "'");
    return data.suppliers.filter((s) => s.name.startsWith(prefix));
  };
}

function selectOrders(orders: ErpOrderLineRow[][]) {
  return (q: string | null): ErpOrderLineRow[][] | string => {
    let since: string | undefined;
    let until: string | undefined;
    for (const part of q === null ? [] : q.split(' and ')) {
      const m = /^CreationDate(>=|<)'(\d{4}-\d{2}-\d{2})'$/.exec(part);
      if (!m) return `unsupported q ${q}`;
      if (m[1] === '>=') since = m[2];
      else until = m[2];
    }
    return orders.filter((o) => linesBetween(o, since, until).length > 0);
  };
}
