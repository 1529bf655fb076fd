import { type AnthropicSimulator, anthropicError, startAnthropicSimulator } from '@gl-vcci/upstreams/anthropic';
import { erpDataSet } from '@gl-vcci/upstreams/erp-data';
import { type OAuth2Simulator, startOAuth2Simulator } from '@gl-vcci/upstreams/erp-oauth2';
import { type OracleSimulator, startOracleSimulator } from '@gl-vcci/upstreams/erp-oracle';
import { type SapSimulator, startSapSimulator } from '@gl-vcci/upstreams/erp-sap';
import { startWorkdaySimulator, type WorkdaySimulator } from '@gl-vcci/upstreams/erp-workday';
import { type FactorBrokerSimulator, startFactorBroker } from '@gl-vcci/upstreams/factor-broker';
import { type OpenAISimulator, openaiError, startOpenAISimulator } from '@gl-vcci/upstreams/openai';
import { type SendGridSimulator, sendgridError, startSendGridSimulator } from '@gl-vcci/upstreams/sendgrid';
import { startTcpProxy, type TcpProxy } from '@gl-vcci/upstreams/tcp-proxy';
import {
  ACTIVITIES,
  CATEGORIES,
  categoryOfName,
  DESNZ,
  ECOINVENT,
  FACTOR_YEAR,
  SPEND_FACTORS,
  SPEND_UNIT,
  spendActivity,
} from './catalog.js';

/** One simulated upstream the dashboard can break and heal. */
export interface UpstreamControl {
  name: string;
  /** The circuit that protects it. */
  circuit: string;
  /** What "break" does to it, in words. */
  fault: string;
  broken: boolean;
  brokenSince: number | undefined;
  break(): Promise<void>;
  heal(): Promise<void>;
}

export interface Upstreams {
  ecoinvent: FactorBrokerSimulator;
  desnz: FactorBrokerSimulator;
  epa: FactorBrokerSimulator;
  anthropic: AnthropicSimulator;
  openai: OpenAISimulator;
  sap: SapSimulator;
  oracle: OracleSimulator;
  workday: WorkdaySimulator;
  oracleAuth: OAuth2Simulator;
  workdayAuth: OAuth2Simulator;
  sendgrid: SendGridSimulator;
  postgresProxy: TcpProxy;
  redisProxy: TcpProxy;
  controls: Map<string, UpstreamControl>;
  credentials: {
    sap: { username: string; password: string };
    oracle: { clientId: string; clientSecret: string };
    workday: { clientId: string; clientSecret: string };
    sendgridKey: string;
    anthropicKey: string;
    openaiKey: string;
  };
  /** The simulated model's answer: every supplier name of the data set and its spend category. */
  classification: Record<string, string>;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  postgres: { host: string; port: number };
  redis: { host: string; port: number };
  /** Retry-After of the Anthropic 429 storm, in seconds. */
  retryAfterSeconds: number;
}

/** Starts every outside service the demo talks to, on 127.0.0.1, from tools/upstreams. */
export async function startUpstreams(options: UpstreamOptions): Promise<Upstreams> {
  const factorRows = (table: Record<string, Record<string, number>>) =>
    Object.fromEntries(
      Object.entries(table).flatMap(([activity, regions]) =>
        Object.entries(regions).map(([region, value]) => [
          `${activity}\u0000${region}`,
          { value, unit: ACTIVITIES[activity]!.factorUnit, year: FACTOR_YEAR },
        ]),
      ),
    );
  const ecoinvent = await startFactorBroker('ecoinvent', factorRows(ECOINVENT));
  const desnz = await startFactorBroker('desnz', factorRows(DESNZ));
  const epa = await startFactorBroker(
    'epa',
    Object.fromEntries(
      CATEGORIES.map((c) => [
        `${spendActivity(c)}\u0000US`,
        { value: SPEND_FACTORS[c], unit: SPEND_UNIT, year: FACTOR_YEAR },
      ]),
    ),
  );

  const anthropicKey = 'sk-ant-demo-not-a-real-key';
  const openaiKey = 'sk-demo-not-a-real-key';
  const anthropic = await startAnthropicSimulator();
  const openai = await startOpenAISimulator();

  const data = erpDataSet({ suppliers: 36, orders: 80, seed: 7 });
  const classification = Object.fromEntries(
    data.suppliers.map((s) => [s.name, categoryOfName(s.name) ?? 'unclassified']),
  );
  const answer = JSON.stringify(classification);
  anthropic.reply(answer, { input_tokens: 420, output_tokens: 380 });
  openai.reply(answer, { prompt_tokens: 410, completion_tokens: 370 });

  const sapUser = { username: 'GLVCCI_COMM', password: 'demo-sap-password' };
  const oracleClient = { clientId: 'gl-vcci-oracle', clientSecret: 'demo-oracle-secret' };
  const workdayClient = { clientId: 'gl-vcci-workday', clientSecret: 'demo-workday-secret' };
  const oracleAuth = await startOAuth2Simulator({ clients: { [oracleClient.clientId]: oracleClient.clientSecret } });
  const workdayAuth = await startOAuth2Simulator({
    clients: { [workdayClient.clientId]: workdayClient.clientSecret },
    path: '/ccx/oauth2/gl_vcci/token',
  });
  const sap = await startSapSimulator({ data, auth: { basic: sapUser } });
  const oracle = await startOracleSimulator({ data, auth: { bearer: (t) => oracleAuth.isValid(t) } });
  const workday = await startWorkdaySimulator({ data, auth: { bearer: (t) => workdayAuth.isValid(t) } });

  const sendgridKey = 'SG.demo-not-a-real-key';
  const sendgrid = await startSendGridSimulator({ apiKey: sendgridKey });

  const postgresProxy = await startTcpProxy({ target: options.postgres });
  const redisProxy = await startTcpProxy({ target: options.redis });

  const controls = new Map<string, UpstreamControl>();
  const control = (name: string, circuit: string, fault: string, apply: (broken: boolean) => Promise<void> | void) => {
    const c: UpstreamControl = {
      name,
      circuit,
      fault,
      broken: false,
      brokenSince: undefined,
      async break() {
        await apply(true);
        if (!c.broken) c.brokenSince = Date.now();
        c.broken = true;
      },
      async heal() {
        await apply(false);
        c.broken = false;
        c.brokenSince = undefined;
      },
    };
    controls.set(name, c);
  };
  const retryAfter = String(options.retryAfterSeconds);
  control('ecoinvent', 'factor_broker.ecoinvent', 'hangs (answers nothing)', (b) =>
    ecoinvent.mode(b ? 'hang' : 'healthy'),
  );
  control('desnz', 'factor_broker.desnz', 'answers 503', (b) => desnz.mode(b ? { status: 503 } : 'healthy'));
  control('epa', 'factor_broker.epa', 'answers 503', (b) => epa.mode(b ? { status: 503 } : 'healthy'));
  control('anthropic', 'llm_providers.claude', `429 storm (Retry-After ${retryAfter} s)`, (b) =>
    anthropic.mode(
      'POST /v1/messages',
      b ? anthropicError(429, 'rate_limit_error', { 'retry-after': retryAfter }) : 'healthy',
    ),
  );
  control('openai', 'llm_providers.openai', 'answers 503', (b) =>
    openai.mode('POST /v1/chat/completions', b ? openaiError(503, 'server_error', null) : 'healthy'),
  );
  control('sap', 'erp_connectors.sap', 'hangs (answers nothing)', (b) => sap.mode(b ? 'hang' : 'healthy'));
  control('oracle', 'erp_connectors.oracle', 'answers 500', (b) => oracle.mode(b ? { status: 500 } : 'healthy'));
  control('workday', 'erp_connectors.workday', 'answers 503', (b) => workday.mode(b ? { status: 503 } : 'healthy'));
  control('sendgrid', 'email_service.sendgrid', 'answers 503', (b) =>
    sendgrid.mode('POST /v3/mail/send', b ? sendgridError(503, 'service unavailable') : 'healthy'),
  );
  control('postgres', 'database.postgres', 'connection cut (refused)', (b) => postgresProxy.mode(b ? 'cut' : 'pass'));
  control('redis', 'cache.redis', 'connection cut (refused)', (b) => redisProxy.mode(b ? 'cut' : 'pass'));

  return {
    ecoinvent,
    desnz,
    epa,
    anthropic,
    openai,
    sap,
    oracle,
    workday,
    oracleAuth,
    workdayAuth,
    sendgrid,
    postgresProxy,
    redisProxy,
    controls,
    credentials: {
      sap: sapUser,
      oracle: oracleClient,
      workday: workdayClient,
      sendgridKey,
      anthropicKey,
      openaiKey,
    },
    classification,
    async close() {
      await Promise.allSettled([
        ecoinvent.close(),
        desnz.close(),
        epa.close(),
        anthropic.close(),
        openai.close(),
        sap.close(),
        oracle.close(),
        workday.close(),
        oracleAuth.close(),
        workdayAuth.close(),
        sendgrid.close(),
        postgresProxy.close(),
        redisProxy.close(),
      ]);
    },
  };
}
