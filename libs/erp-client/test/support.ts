import type { Logger } from '@gl-vcci/breaker-core';
import { type TestRegistry, testRegistry, track, waitFor } from '@gl-vcci/breaker-core/testing';
import { type ErpDataSet, erpDataSet } from '@gl-vcci/upstreams/erp-data';
import { type OAuth2Simulator, startOAuth2Simulator } from '@gl-vcci/upstreams/erp-oauth2';
import { type OracleSimulator, startOracleSimulator } from '@gl-vcci/upstreams/erp-oracle';
import { type SapSimulator, startSapSimulator } from '@gl-vcci/upstreams/erp-sap';
import { startWorkdaySimulator, type WorkdaySimulator } from '@gl-vcci/upstreams/erp-workday';
import { createErpClient } from '../src/client.js';
import type { ErpBreakerOptions, ErpClient, ErpClientOptions, ErpSystem } from '../src/types.js';

export { samples, sampleValue } from '@gl-vcci/breaker-core/testing';

/**
 * The `erp_connectors` blocks the tests run with: a count window opening after three failures,
 * 5 s open, a 1 s page deadline and a 10 s whole-fetch deadline (moved past with the ManualClock),
 * two pages at once and three waiting per system, a 1 h cache TTL and a 1 day stale maximum age.
 */
const block = `
    window_calls: 10
    fail_max: 3
    timeout_duration: 5
    call_timeout: 1
    connection_pool_size: 2
    max_queue: 3
    cache_ttl: 3600
    stale_max_age: 86400
    fetch_deadline: 10`;
export const TEST_CONFIG = `erp_connectors:\n  sap:${block}\n  oracle:${block}\n  workday:${block}\n`;

export const CALL_TIMEOUT_MS = 1_000;
export const FETCH_DEADLINE_MS = 10_000;
export const OPEN_DURATION_MS = 5_000;
export const CACHE_TTL_MS = 3_600_000;
export const STALE_MAX_AGE_MS = 86_400_000;
export const SYSTEMS: readonly ErpSystem[] = ['sap', 'oracle', 'workday'];

/** The secrets the harness's client is given: none may appear in an error or a log line. */
export const SECRETS = {
  sapPassword: 'sap-pa55word-s3cret',
  oracleClientSecret: 'oracle-client-s3cret',
  workdayClientSecret: 'workday-client-s3cret',
};

/** The data every simulator serves: one data set, so the three systems can be compared. */
export const DATA: ErpDataSet = erpDataSet();

export interface Harness extends TestRegistry {
  client: ErpClient;
  sap: SapSimulator;
  oracle: OracleSimulator;
  workday: WorkdaySimulator;
  oracleTokens: OAuth2Simulator;
  workdayTokens: OAuth2Simulator;
  /** The simulator of a system. */
  sim(system: ErpSystem): SapSimulator | OracleSimulator | WorkdaySimulator;
  close(): Promise<void>;
}

export interface HarnessSetup {
  logger?: Logger;
  /** expires_in of the OAuth2 tokens, in seconds (default 3 600). */
  tokenLifetime?: number;
  /** SAP's own page cap (default 1 000). */
  sapMaxPageSize?: number;
  /** Replaces the client secret the client sends to Oracle's token endpoint. */
  oracleClientSecret?: string;
  /** Circuit overrides per system (`systems.<system>.breaker`). */
  breaker?: Partial<Record<ErpSystem, ErpBreakerOptions>>;
}

/**
 * SAP (Basic), Oracle (OAuth2 through an IDCS-like token endpoint) and Workday (OAuth2 through its
 * tenant's token endpoint), all serving DATA, a registry on a ManualClock and a client whose page
 * retries wait at most 1 ms (moved with `drive`).
 */
export async function harness(extra: Partial<ErpClientOptions> = {}, setup: HarnessSetup = {}): Promise<Harness> {
  const t = testRegistry({ config: TEST_CONFIG, ...(setup.logger ? { logger: setup.logger } : {}) });
  const expiresIn = setup.tokenLifetime ?? 3_600;
  const [oracleTokens, workdayTokens] = await Promise.all([
    startOAuth2Simulator({ clients: { 'oracle-app': SECRETS.oracleClientSecret }, expiresIn }),
    startOAuth2Simulator({
      clients: { 'workday-app': SECRETS.workdayClientSecret },
      path: '/ccx/oauth2/gl_vcci/token',
      expiresIn,
    }),
  ]);
  const [sap, oracle, workday] = await Promise.all([
    startSapSimulator({
      data: DATA,
      auth: { basic: { username: 'COMM_USER', password: SECRETS.sapPassword } },
      ...(setup.sapMaxPageSize ? { maxPageSize: setup.sapMaxPageSize } : {}),
    }),
    startOracleSimulator({ data: DATA, auth: { bearer: oracleTokens.isValid } }),
    startWorkdaySimulator({ data: DATA, auth: { bearer: workdayTokens.isValid } }),
  ]);
  const client = createErpClient({
    registry: t.registry,
    systems: {
      sap: {
        ...(setup.breaker?.sap ? { breaker: setup.breaker.sap } : {}),
        baseUrl: sap.url,
        auth: { type: 'basic', username: 'COMM_USER', password: SECRETS.sapPassword },
      },
      oracle: {
        ...(setup.breaker?.oracle ? { breaker: setup.breaker.oracle } : {}),
        baseUrl: oracle.url,
        auth: {
          type: 'oauth2',
          tokenUrl: oracleTokens.tokenUrl,
          clientId: 'oracle-app',
          clientSecret: setup.oracleClientSecret ?? SECRETS.oracleClientSecret,
        },
      },
      workday: {
        ...(setup.breaker?.workday ? { breaker: setup.breaker.workday } : {}),
        baseUrl: workday.url,
        tenant: 'gl_vcci',
        purchaseOrderReport: { owner: 'ISU_Procurement', name: 'PO_Lines' },
        auth: {
          type: 'oauth2',
          tokenUrl: workdayTokens.tokenUrl,
          clientId: 'workday-app',
          clientSecret: SECRETS.workdayClientSecret,
        },
      },
    },
    ...extra,
    retry: { baseDelayMs: 1, maxDelayMs: 1, ...extra.retry },
  });
  const sims = { sap, oracle, workday };
  return {
    ...t,
    client,
    sap,
    oracle,
    workday,
    oracleTokens,
    workdayTokens,
    sim: (system) => sims[system],
    async close() {
      await client.close();
      await Promise.all([sap, oracle, workday, oracleTokens, workdayTokens].map((s) => s.close()));
      t.registry.close();
    },
  };
}

/**
 * Settles `promise` while moving the ManualClock 1 ms at a time between real I/O, so retry
 * backoffs (at most 1 ms here) pass; deadlines (1 s and more) are never reached this way.
 */
export async function drive<T>(h: TestRegistry, promise: Promise<T>): Promise<T> {
  const t = track(promise);
  while (t.status === 'pending') {
    await h.clock.advanceAsync(1);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return promise;
}

/** Polls until the simulator has received `count` requests for `kind`: for real I/O only, never for clock time. */
export function waitForRequests(
  sim: { requests(kind: 'suppliers' | 'purchaseOrders'): unknown[] },
  kind: 'suppliers' | 'purchaseOrders',
  count: number,
): Promise<void> {
  return waitFor(() => sim.requests(kind).length >= count, `request ${count} for ${kind}`);
}

/** Canonical decimal text of a simulator's exact decimal string. */
export function canonical(text: string): string {
  const [int = '0', frac = ''] = text.split('.');
  const f = frac.replace(/0+$/, '');
  const i = int.replace(/^0+(?=\d)/, '');
  return f === '' ? i : `${i}.${f}`;
}
