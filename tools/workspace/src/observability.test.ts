import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testRegistry } from '@gl-vcci/breaker-core/testing';
import { createCacheClient } from '@gl-vcci/cache-client';
import { createDbClient } from '@gl-vcci/db-client';
import { createEmailClient } from '@gl-vcci/email-client';
import { createErpClient } from '@gl-vcci/erp-client';
import { createFactorClient } from '@gl-vcci/factor-client';
import { createLlmClient } from '@gl-vcci/llm-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// config/alerts (Prometheus rules) and config/grafana (dashboard) against what the libs export:
// every metric they name exists in a scrape of a registry holding every client's metrics, the
// rules pass promtool (syntax and their unit tests), and promtool's lint accepts that scrape.
// No call is made: the clients point at port 9, where nothing listens.

const CONFIG = fileURLToPath(new URL('../../../config/', import.meta.url));
const RULES = join(CONFIG, 'alerts/gl-vcci.rules.yml');
const RULE_TESTS = join(CONFIG, 'alerts/gl-vcci.rules.test.yml');
const DASHBOARD = join(CONFIG, 'grafana/gl-vcci-clients.json');
const NOWHERE = 'http://127.0.0.1:9';
const METRIC_NAME = /greenlang_[a-z_]+/g;
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;
/** The data source uid of an exported dashboard: Grafana fills in the DS_PROMETHEUS input on import. */
const DS_INPUT = ['$', '{DS_PROMETHEUS}'].join('');

const rulesText = readFileSync(RULES, 'utf8');

interface Target {
  expr: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}
interface Dashboard {
  __inputs: Array<{ name: string; type: string; pluginId: string }>;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; query: { query: string } | string; datasource?: { uid?: string } }> };
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const graphs = dashboard.panels.filter((p) => p.type !== 'row');
const dashboardExprs = graphs.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const variableQueries = dashboard.templating.list.map((v) => (typeof v.query === 'string' ? v.query : v.query.query));

/** The PromQL of the rules file: each `expr:` line (the rules keep their expressions on one line). */
const ruleExprs = [...rulesText.matchAll(/^\s*expr:\s*(.+)$/gm)].map((m) => m[1]!);

/** Each alert of the rules file as its own block of text, by name. */
const alerts = new Map(
  rulesText
    .split(/^\s*- alert:\s*/m)
    .slice(1)
    .map((block) => [block.slice(0, block.indexOf('\n')).trim(), block] as const),
);

/** Metric names referenced in `texts`, a histogram's _bucket/_sum/_count read as the histogram. */
function referencedNames(texts: readonly string[], histograms: ReadonlySet<string>): Set<string> {
  const names = texts.flatMap((text) => text.match(METRIC_NAME) ?? []);
  return new Set(
    names.map((name) => {
      const base = name.replace(HISTOGRAM_SUFFIX, '');
      return base !== name && histograms.has(base) ? base : name;
    }),
  );
}

/** The metric families of an exposition-format scrape, by name, with their type. */
function families(scrape: string): Map<string, string> {
  return new Map([...scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** promtool, or why not: under CI=true a missing promtool fails this file; elsewhere its checks skip loudly. */
function findPromtool(): boolean {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (!probe.error && probe.status === 0) return true;
  const message =
    'promtool is not installed: install it with `apt-get install -y --no-install-recommends prometheus` (Debian; ' +
    'the server is not started), or put the promtool of a Prometheus release on PATH. .ci/run installs it when missing';
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(message);
  console.warn(`\n*** SKIPPING the promtool checks: ${message} ***\n`);
  return false;
}
const hasPromtool = findPromtool();

function promtool(args: string[], input?: string) {
  const run = spawnSync('promtool', args, { encoding: 'utf8', input, cwd: CONFIG });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A scrape of one prom-client registry holding the breaker metrics and every client's own. */
async function scrapeEveryClient(): Promise<string> {
  const { registry, prom } = testRegistry();
  const factors = createFactorClient({
    registry,
    sources: {
      ecoinvent: { baseUrl: NOWHERE, failover: 'desnz' },
      desnz: { baseUrl: NOWHERE },
      epa: { baseUrl: NOWHERE },
    },
  });
  // Prices make the cost counter exist (it is only registered for priced providers).
  const prices = { inputPerMillion: 3, outputPerMillion: 15 };
  const llm = createLlmClient({
    registry,
    providers: { claude: { apiKey: 'k', failover: 'openai', prices }, openai: { apiKey: 'k', prices } },
  });
  const db = createDbClient({ registry, connectionString: 'postgres://nobody@127.0.0.1:9/none' });
  const cache = createCacheClient({ registry, url: 'redis://127.0.0.1:9' });
  // Its queue gauges read the outbox at scrape time: a throwaway folder.
  const emailDir = mkdtempSync(join(tmpdir(), 'gl-vcci-observability-email-'));
  const email = createEmailClient({
    registry,
    sendgrid: { apiKey: 'SG.k', baseUrl: NOWHERE },
    queue: { dir: emailDir },
  });
  const basic = { type: 'basic' as const, username: 'u', password: 'p' };
  const erp = createErpClient({
    registry,
    systems: {
      sap: { baseUrl: NOWHERE, auth: basic },
      oracle: { baseUrl: NOWHERE, auth: basic },
      workday: { baseUrl: NOWHERE, auth: basic, tenant: 't', purchaseOrderReport: { owner: 'o', name: 'r' } },
    },
  });
  try {
    // One breaker of our own with a call and a transition, so every breaker series has samples.
    const breaker = registry.breaker('observability.check');
    await breaker.execute(() => 'ok');
    breaker.forceOpen();
    return await prom.metrics();
  } finally {
    await Promise.all([factors.close(), llm.close(), db.close(), cache.close(), email.close(), erp.close()]);
    registry.close();
    rmSync(emailDir, { recursive: true, force: true });
  }
}

describe('the alert rules and the dashboard', () => {
  let scrape: string;
  let exported: Map<string, string>;
  beforeAll(async () => {
    scrape = await scrapeEveryClient();
    exported = families(scrape);
  });

  it('name only metrics the libs export', () => {
    const histograms = new Set([...exported].filter(([, type]) => type === 'histogram').map(([name]) => name));
    const fromRules = referencedNames(ruleExprs, histograms);
    const fromDashboard = referencedNames([...dashboardExprs, ...variableQueries], histograms);
    expect(fromRules.size).toBeGreaterThan(0);
    expect(fromDashboard.size).toBeGreaterThan(0);
    expect([...fromRules].filter((name) => !exported.has(name))).toEqual([]);
    expect([...fromDashboard].filter((name) => !exported.has(name))).toEqual([]);
  });

  it("the scrape holds every client's metrics and the breaker histogram", () => {
    for (const name of [
      'greenlang_circuit_breaker_state',
      'greenlang_circuit_breaker_failure_rate',
      'greenlang_factor_lookups_total',
      'greenlang_llm_failovers_total',
      'greenlang_llm_cost_usd_total',
      'greenlang_db_pool_connections',
      'greenlang_cache_requests_total',
      'greenlang_email_sent_total',
      'greenlang_email_queue_depth',
      'greenlang_email_oldest_queued_seconds',
      'greenlang_erp_records_fetched_total',
      'greenlang_erp_pages_total',
      'greenlang_erp_bulkhead_in_use',
      'greenlang_erp_bulkhead_queued',
    ]) {
      expect(exported.has(name), name).toBe(true);
    }
    expect(exported.get('greenlang_circuit_breaker_call_duration_seconds')).toBe('histogram');
    expect(scrape).toMatch(/^greenlang_circuit_breaker_state\{circuit_name="observability\.check"\} 1$/m);
    expect(scrape).toMatch(/^greenlang_circuit_breaker_state\{circuit_name="database\.postgres"\} 0$/m);
  });

  it('the dashboard shows every metric family the libs export', () => {
    const shown = referencedNames(dashboardExprs, new Set(exported.keys()));
    expect([...exported.keys()].filter((name) => !shown.has(name))).toEqual([]);
  });
});

describe('the alert rules', () => {
  it('give each alert a severity, a summary and a runbook description', () => {
    expect([...alerts.keys()].sort()).toEqual([
      'GlVcciCircuitFailureRateHigh',
      'GlVcciCircuitOpen',
      'GlVcciDatabaseCircuitOpen',
      'GlVcciEmailQueueBacklog',
      'GlVcciLlmFailoverSustained',
    ]);
    for (const [name, block] of alerts) {
      expect(block, name).toMatch(/^\s+severity: (warning|critical)$/m);
      expect(block, name).toMatch(/^\s+summary: .+$/m);
      for (const part of ['What it means:', 'What the platform does meanwhile:', 'What to check:']) {
        expect(block, `${name}: ${part}`).toContain(part);
      }
    }
  });

  it('page on the database circuit as critical, and compare the failure rate as a 0-1 ratio', () => {
    const db = alerts.get('GlVcciDatabaseCircuitOpen')!;
    expect(db).toMatch(/severity: critical/);
    expect(db).toMatch(/expr: greenlang_circuit_breaker_state\{circuit_name="database\.postgres"\} >= 1/);
    expect(alerts.get('GlVcciCircuitOpen')).toMatch(/circuit_name!="database\.postgres"\} >= 1\s+for: 5m/);
    expect(alerts.get('GlVcciCircuitFailureRateHigh')).toMatch(
      /greenlang_circuit_breaker_failure_rate > 0\.5\s+for: 10m/,
    );
    expect(alerts.get('GlVcciLlmFailoverSustained')).toMatch(/rate\(greenlang_llm_failovers_total\[5m\]\)/);
    expect(alerts.get('GlVcciEmailQueueBacklog')).toMatch(/greenlang_email_oldest_queued_seconds\) > 3600 or/);
  });
});

describe('the dashboard', () => {
  it('imports with a DS_PROMETHEUS input that every panel, query and variable uses', () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    expect(dashboard.uid).toBe('gl-vcci-clients');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(graphs.length).toBeGreaterThan(0);
    for (const panel of graphs) {
      expect(panel.datasource?.uid, panel.title).toBe(DS_INPUT);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe(DS_INPUT);
    }
    for (const variable of dashboard.templating.list) expect(variable.datasource?.uid).toBe(DS_INPUT);
  });

  it('has panels for circuit states, the call-duration p95 and each client', () => {
    const titles = graphs.map((p) => p.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Circuit state',
        'Calls by status (per second)',
        'Failure and slow-call ratio (0-1)',
        'Call duration p95',
        'State transitions',
        'Factor lookups by answering step (per second)',
        'LLM failovers (per second)',
        'DB pool connections',
        'Cache requests by tier and result (per second)',
        'E-mail queue depth by priority',
      ]),
    );
    expect(dashboardExprs).toContainEqual(
      expect.stringMatching(/histogram_quantile\(0\.95, .*greenlang_circuit_breaker_call_duration_seconds_bucket/),
    );
  });
});

describe.skipIf(!hasPromtool)('promtool', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gl-vcci-observability-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('check rules accepts the rules file', () => {
    const run = promtool(['check', 'rules', RULES]);
    expect(run.output).toContain('SUCCESS: 5 rules found');
    expect(run.status, run.output).toBe(0);
  });

  it('test rules passes the unit tests of the rules (circuit open after 5 minutes, DB critical, ...)', () => {
    const run = promtool(['test', 'rules', RULE_TESTS]);
    expect(run.status, run.output).toBe(0);
  });

  it('check rules parses every dashboard query (Grafana variables filled in)', () => {
    const filled = dashboardExprs.map((expr) =>
      expr
        .replaceAll('$__rate_interval', '5m')
        .replaceAll('$job', '.*')
        .replaceAll('$instance', '.*')
        .replaceAll('$circuit', '.*'),
    );
    expect(filled.join('\n')).not.toContain('$');
    const rules = [
      'groups:',
      '  - name: dashboard-queries',
      '    rules:',
      ...filled.flatMap((expr, i) => [`      - record: dashboard:query_${i}`, `        expr: ${JSON.stringify(expr)}`]),
    ];
    const file = join(dir, 'dashboard-queries.yml');
    writeFileSync(file, `${rules.join('\n')}\n`);
    const run = promtool(['check', 'rules', file]);
    expect(run.status, run.output).toBe(0);
  });

  it("check metrics accepts a scrape of every client's metrics", async () => {
    const scrape = await scrapeEveryClient();
    const run = promtool(['check', 'metrics'], scrape);
    expect(run.output.trim()).toBe('');
    expect(run.status, run.output).toBe(0);
  });
});
