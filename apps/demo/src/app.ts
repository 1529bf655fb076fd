import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BreakerRegistry,
  type CircuitBreaker,
  createLogger,
  type Logger,
  loadConfig,
  type StateChange,
} from '@gl-vcci/breaker-core';
import type { KeyValueStore } from '@gl-vcci/breaker-core/client';
import { type CacheClient, createCacheClient, keyValueStore } from '@gl-vcci/cache-client';
import { createDbClient, type DbClient } from '@gl-vcci/db-client';
import { createEmailClient, type EmailClient } from '@gl-vcci/email-client';
import { createErpClient, type ErpClient } from '@gl-vcci/erp-client';
import { createFactorClient, type FactorClient, loadFactorDefaults } from '@gl-vcci/factor-client';
import { createLlmClient, type LlmClient } from '@gl-vcci/llm-client';
import pino from 'pino';
import { Registry } from 'prom-client';
import { CalculationLog, CalculatorAgent } from './agents/calculator.js';
import { IntakeAgent } from './agents/intake.js';
import { ReportingAgent } from './agents/reporting.js';
import { type Backend, findPostgres, findRedis } from './env.js';
import { ServedTally } from './served.js';
import { startUpstreams, type Upstreams } from './upstreams.js';

export const CONFIG_PATH = fileURLToPath(new URL('../../../config/circuit_breaker_config.yaml', import.meta.url));

/**
 * The demo's time scale over the shipped file's settings: the same trip rules, shorter deadlines
 * and open periods, so that a whole outage and its recovery fit in seconds.
 */
export function demoTimings(short: boolean) {
  return {
    ecoinvent: { callTimeoutMs: short ? 600 : 1_000, openDurationMs: short ? 1_500 : 4_000 },
    erp: { callTimeoutMs: short ? 600 : 1_500 },
    erpRetry: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 300 },
    sendgrid: { openDurationMs: short ? 1_000 : 2_500, callTimeoutMs: 2_000 },
    emailQueue: { drainIntervalMs: 300, baseDelayMs: 300, maxDelayMs: 1_500 },
    retryAfterSeconds: short ? 1 : 3,
  };
}

/** A circuit transition as the timeline and the dashboard show it. */
export interface Transition extends StateChange {
  /** Wall-clock time. */
  wallAt: number;
  error?: string;
}

/** An operator action (force-open, disable, metrics-only, reset) on a circuit. */
export interface ManualChange {
  action: string;
  since: number;
}

export interface DemoOptions {
  /** Short timings (CI). */
  short?: boolean;
  /** The logger (default: JSON lines at info into `<runDir>/demo.log`). */
  logger?: Logger;
  /** Factor cache TTL over the file's (the serve mode's traffic keeps refreshing factors). */
  factorCacheTtlMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Where the embedded PGlite keeps its data when it is used. */
  pgliteDir?: string;
}

export interface Demo {
  runId: string;
  runDir: string;
  logFile: string | undefined;
  short: boolean;
  registry: BreakerRegistry;
  prom: Registry;
  logger: Logger;
  backends: { postgres: Backend; redis: Backend };
  upstreams: Upstreams;
  clients: {
    factors: FactorClient;
    llm: LlmClient;
    erp: ErpClient;
    email: EmailClient;
    db: DbClient;
    cache: CacheClient;
  };
  agents: { calculator: CalculatorAgent; intake: IntakeAgent; reporting: ReportingAgent };
  calculationLog: CalculationLog;
  served: ServedTally;
  transitions: Transition[];
  onTransition(listener: (t: Transition) => void): () => void;
  manual: Map<string, ManualChange>;
  tables: { calculations: string; suppliers: string; lines: string };
  close(): Promise<void>;
}

function withPrefix<T>(store: KeyValueStore<T>, prefix: string): KeyValueStore<T> {
  return {
    get: (key, options) => store.get(`${prefix}${key}`, options),
    set: (key, value, ttlMs) => store.set(`${prefix}${key}`, value, ttlMs),
  };
}

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
}

function viaProxy(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

/** The composition root: one registry, one prom-client registry, one logger, six clients, three agents. */
export async function createDemo(options: DemoOptions = {}): Promise<Demo> {
  const short = options.short ?? false;
  const timings = demoTimings(short);
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const runDir = mkdtempSync(join(tmpdir(), 'gl-vcci-demo-'));
  const logFile = options.logger ? undefined : join(runDir, 'demo.log');
  const logger =
    options.logger ??
    createLogger({ level: 'info', base: { app: 'demo' } }, pino.destination({ dest: logFile!, sync: false }));

  const postgres = await findPostgres({
    dataDir: options.pgliteDir ?? join(fileURLToPath(new URL('../', import.meta.url)), '.data', 'pglite'),
    ...(options.env ? { env: options.env } : {}),
  });
  const redis = await findRedis(options.env);
  const upstreams = await startUpstreams({
    postgres: hostPort(postgres.url, 5432),
    redis: hostPort(redis.url, 6379),
    retryAfterSeconds: timings.retryAfterSeconds,
  });

  const prom = new Registry();
  const registry = new BreakerRegistry({ config: loadConfig(CONFIG_PATH), metrics: { registry: prom }, logger });
  const prefix = `gl_vcci_demo_${runId}`;
  const tables = {
    calculations: `${prefix}_calculations`,
    suppliers: `${prefix}_suppliers`,
    lines: `${prefix}_po_lines`,
  };

  const cache = createCacheClient({
    url: viaProxy(redis.url, upstreams.redisProxy.port),
    registry,
    keyPrefix: `gl-vcci-demo:${runId}:`,
  });
  const store = keyValueStore<never>(cache);
  const factors = createFactorClient({
    registry,
    sources: {
      ecoinvent: {
        baseUrl: upstreams.ecoinvent.url,
        headers: { authorization: 'Bearer demo-ecoinvent-key' },
        breaker: timings.ecoinvent,
        ...(options.factorCacheTtlMs ? { cacheTtlMs: options.factorCacheTtlMs } : {}),
      },
      desnz: { baseUrl: upstreams.desnz.url },
      epa: { baseUrl: upstreams.epa.url },
    },
    defaults: loadFactorDefaults(),
    cache: withPrefix(store, 'factor:'),
  });
  const llm = createLlmClient({
    registry,
    providers: {
      claude: { apiKey: upstreams.credentials.anthropicKey, baseURL: upstreams.anthropic.url },
      openai: { apiKey: upstreams.credentials.openaiKey, baseURL: `${upstreams.openai.url}/v1` },
    },
    cache: withPrefix(store, 'llm:'),
  });
  const { sap, oracle, workday } = upstreams.credentials;
  const erp = createErpClient({
    registry,
    systems: {
      sap: { baseUrl: upstreams.sap.url, auth: { type: 'basic', ...sap }, breaker: timings.erp },
      oracle: {
        baseUrl: upstreams.oracle.url,
        auth: { type: 'oauth2', tokenUrl: upstreams.oracleAuth.tokenUrl, ...oracle },
        breaker: timings.erp,
      },
      workday: {
        baseUrl: upstreams.workday.url,
        tenant: upstreams.workday.tenant,
        purchaseOrderReport: { owner: 'ISU_Procurement', name: 'PO_Lines_for_GL_VCCI' },
        auth: { type: 'oauth2', tokenUrl: upstreams.workdayAuth.tokenUrl, ...workday },
        breaker: timings.erp,
      },
    },
    retry: timings.erpRetry,
    cache: withPrefix(store, 'erp:'),
  });
  const email = createEmailClient({
    registry,
    sendgrid: { apiKey: upstreams.credentials.sendgridKey, baseUrl: upstreams.sendgrid.url },
    queue: { dir: join(runDir, 'email_queue'), ...timings.emailQueue },
    breaker: timings.sendgrid,
  });
  const db = createDbClient({ connectionString: viaProxy(postgres.url, upstreams.postgresProxy.port), registry });

  const served = new ServedTally();
  const calculationLog = new CalculationLog(db, tables.calculations, logger);
  const calculator = new CalculatorAgent(factors, calculationLog, served);
  const intake = new IntakeAgent({ erp, llm, db, cache, served, logger, tables });
  const reporting = new ReportingAgent({
    db,
    factors,
    email,
    served,
    tables,
    runId,
    from: 'scope3-demo@gl-vcci.example',
  });
  await calculationLog.init();
  await intake.init();

  const transitions: Transition[] = [];
  const listeners = new Set<(t: Transition) => void>();
  const watched = new WeakSet<CircuitBreaker>();
  const watch = () => {
    for (const breaker of registry.breakers()) {
      if (watched.has(breaker)) continue;
      watched.add(breaker);
      breaker.onStateChange((change) => {
        const t: Transition = {
          ...change,
          wallAt: Date.now(),
          ...(change.lastError instanceof Error ? { error: change.lastError.message } : {}),
        };
        transitions.push(t);
        for (const l of listeners) l(t);
      });
    }
  };
  watch();
  const watcher = setInterval(watch, 1_000);
  watcher.unref();

  return {
    runId,
    runDir,
    logFile,
    short,
    registry,
    prom,
    logger,
    backends: { postgres, redis },
    upstreams,
    clients: { factors, llm, erp, email, db, cache },
    agents: { calculator, intake, reporting },
    calculationLog,
    served,
    transitions,
    onTransition(listener) {
      watch();
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    manual: new Map(),
    tables,
    async close() {
      clearInterval(watcher);
      calculationLog.stop();
      for (const c of upstreams.controls.values()) if (c.broken) await c.heal().catch(() => {});
      for (const table of Object.values(tables)) {
        await db.query(`DROP TABLE IF EXISTS ${table}`, [], { name: 'demo.drop' }).catch(() => {});
      }
      await Promise.allSettled([factors.close(), llm.close(), erp.close(), email.close(), cache.close()]);
      await db.close({ timeoutMs: 2_000 }).catch(() => {});
      registry.close();
      await upstreams.close();
      await postgres.stop();
      await redis.stop();
      rmSync(join(runDir, 'email_queue'), { recursive: true, force: true });
      if (!logFile) rmSync(runDir, { recursive: true, force: true });
      logger.flush?.();
    },
  };
}
