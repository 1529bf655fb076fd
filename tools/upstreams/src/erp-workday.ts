import type { ServerResponse } from 'node:http';
import {
  answerPage,
  authorized,
  type ErpAuth,
  type ErpDataOptions,
  type ErpDataSet,
  type ErpListKind,
  type ErpSupplierRow,
  erpDataSet,
  lineAmount,
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

export interface WorkdaySimulatorOptions extends ErpDataOptions {
  data?: ErpDataSet;
  /** The tenant in every path (default `gl_vcci`). */
  tenant?: string;
  /** Credentials required (default: none checked). */
  auth?: ErpAuth;
}

export interface WorkdaySimulator {
  readonly url: string;
  readonly tenant: string;
  readonly http: HttpSimulator;
  readonly data: ErpDataSet;
  mode(mode: FailureMode): void;
  /**
   * Page `page` of `kind` answers `fault`, `times` times: suppliers pages are offset / limit + 1;
   * the purchase-order report is one page (RaaS does not page).
   */
  failPage(kind: ErpListKind, page: number, fault: PageFault, times?: number): void;
  clearFaults(): void;
  requests(kind: ErpListKind): SimulatedRequest[];
  close(): Promise<void>;
}

/** Workday REST's page limit: at most 100. */
export const WORKDAY_MAX_LIMIT = 100;

/** The supplier id Workday shows (`Supplier_ID`), shared by the REST resource and the report. */
export const workdaySupplierId = (index: number) => `S-${String(index).padStart(6, '0')}`;

/**
 * Workday: the REST `suppliers` collection (`GET /ccx/api/v1/{tenant}/suppliers?limit&offset`,
 * `{ total, data: [{ id, descriptor, supplierId, status, createdOn }] }`, limit at most 100, above
 * it a 400) and a RaaS report of purchase-order lines
 * (`GET /ccx/service/customreport2/{tenant}/{owner}/{report}?format=json&Start_Date&End_Date`,
 * `{ Report_Entry: [...] }` in one answer, values as strings, End_Date inclusive). Errors:
 * `{ error, errors: [{ error }] }`.
 */
export async function startWorkdaySimulator(options: WorkdaySimulatorOptions = {}): Promise<WorkdaySimulator> {
  const data = options.data ?? erpDataSet(options);
  const tenant = options.tenant ?? 'gl_vcci';
  const faults = new PageFaults();
  const byKind: Record<ErpListKind, SimulatedRequest[]> = { suppliers: [], purchaseOrders: [] };
  const failure = (res: ServerResponse, status: number, message: string) =>
    json(res, status, { error: message, errors: [{ error: message }] });

  const checked = (kind: ErpListKind, request: SimulatedRequest, res: ServerResponse): boolean => {
    byKind[kind].push(request);
    if (authorized(options.auth, request.headers) !== 'ok') {
      unauthorized(res, { error: 'invalid request: invalid token' });
      return false;
    }
    if (request.path.split('/')[4] !== tenant) {
      failure(res, 404, 'tenant not found');
      return false;
    }
    return true;
  };

  const suppliers = async (request: SimulatedRequest, res: ServerResponse) => {
    if (!checked('suppliers', request, res)) return;
    const limit = Number(request.query.get('limit') ?? '20');
    const offset = Number(request.query.get('offset') ?? '0');
    if (!Number.isInteger(limit) || limit < 1 || limit > WORKDAY_MAX_LIMIT) {
      return failure(res, 400, `limit must be between 1 and ${WORKDAY_MAX_LIMIT}`);
    }
    if (!Number.isInteger(offset) || offset < 0) return failure(res, 400, 'offset must be a non-negative integer');
    const page = Math.floor(offset / limit) + 1;
    const healthy = () =>
      json(res, 200, {
        total: data.suppliers.length,
        data: data.suppliers.slice(offset, offset + limit).map((s: ErpSupplierRow) => ({
          id: s.index.toString(16).padStart(32, 'a'),
          descriptor: s.name,
          supplierId: workdaySupplierId(s.index),
          status: { id: s.active ? 'ACTIVE' : 'INACTIVE', descriptor: s.active ? 'Active' : 'Inactive' },
          createdOn: s.createdOn,
        })),
      });
    await answerPage(faults.take('suppliers', page), res, healthy, { total: data.suppliers.length });
  };

  const report = async (request: SimulatedRequest, res: ServerResponse) => {
    if (!checked('purchaseOrders', request, res)) return;
    if (request.query.get('format') !== 'json') return failure(res, 400, 'format=json expected');
    const since = request.query.get('Start_Date') ?? undefined;
    const end = request.query.get('End_Date');
    const until = end === null ? undefined : nextDay(end);
    const healthy = () =>
      json(res, 200, {
        Report_Entry: linesBetween(data.lines, since, until).map((l) => ({
          Purchase_Order: `PO-${String(l.order).padStart(6, '0')}`,
          Line_Number: String(l.line),
          Supplier_ID: workdaySupplierId(l.supplier),
          Order_Date: l.orderedOn,
          Item_Description: l.description,
          Quantity: l.quantity,
          Unit_of_Measure: l.unit,
          Extended_Amount: lineAmount(l),
          Currency: l.currency,
        })),
      });
    await answerPage(faults.take('purchaseOrders', 1), res, healthy, {});
  };

  const http = await startHttpSimulator({
    'GET /ccx/api/v1/:tenant/suppliers': suppliers,
    'GET /ccx/service/customreport2/:tenant/:owner/:report': report,
  });
  return {
    url: http.url,
    tenant,
    http,
    data,
    mode: (mode) => http.mode('*', mode),
    failPage: (kind, page, fault, times) => faults.set(kind, page, fault, times),
    clearFaults: () => faults.clear(),
    requests: (kind) => byKind[kind],
    close: () => http.close(),
  };
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
