import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RESOLUTIONS, typecheckConsumer } from './consumer.js';
import { CLIENTS, libDir, PUBLISHED, type PublishedLib, ROOT } from './workspace.js';

// `npm run release:smoke`: the packages the way a user meets them. A local registry (verdaccio 6.8.0,
// no uplinks: it never reaches out) on 127.0.0.1 gets every published lib; then, in fresh projects
// outside the repository, each client is installed alone with its peers (scoped .npmrc: @gl-vcci from
// the local registry, everything else from npm), its tree is checked for other clients' SDKs, a consumer
// makes one real call through it (ESM, and require() on Node >= 20.19), and a consumer file is
// typechecked strict under node16 and bundler resolution with skipLibCheck false.
// The libs must be built first (the root script builds them through Nx).

const exec = promisify(execFile);

/** Every client's own service SDKs; another client's tree must hold none of them. */
const SDKS: Record<string, readonly string[]> = {
  'factor-client': ['axios'],
  'erp-client': ['axios'],
  'llm-client': ['@anthropic-ai/sdk', 'openai'],
  'db-client': ['pg'],
  'cache-client': ['redis'],
  'email-client': ['@sendgrid/mail', '@sendgrid/client'],
  'breaker-sync-redis': ['redis'],
};
/** What a client's own SDK brings in itself, allowed in that client's tree only: @sendgrid/client sends with axios. */
const BROUGHT_BY_SDKS: Record<string, readonly string[]> = {
  'email-client': ['axios'],
};
const FORBIDDEN = [
  'openai',
  '@anthropic-ai/sdk',
  'pg',
  'redis',
  '@sendgrid/mail',
  '@sendgrid/client',
  'axios',
  'ioredis',
  'nodemailer',
];

const TYPESCRIPT = 'typescript@~6.0';
const NODE_TYPES = '@types/node@^20.19';

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gl-vcci-smoke-'));
  let registry: ChildProcess | undefined;
  const servers: Server[] = [];
  let ok = false;
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    registry = await startRegistry(work, port);
    console.log(`smoke: verdaccio 6.8.0 on ${url} (pid ${registry.pid}), work dir ${work}`);

    for (const lib of PUBLISHED) await publish(lib, work, url);

    const factorUrl = await listen(servers, factorSource);
    const anthropicUrl = await listen(servers, anthropic);
    const sapUrl = await listen(servers, sapOData);
    const sendgridUrl = await listen(servers, sendgrid);
    const env = {
      FACTOR_URL: factorUrl,
      ANTHROPIC_URL: anthropicUrl,
      SAP_URL: sapUrl,
      SENDGRID_URL: `${sendgridUrl}/`,
      DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    };

    const sizes: Array<{ client: string; packages: number; bytes: number }> = [];
    for (const client of CLIENTS) sizes.push(await consume(client, work, url, env));

    console.log('\nsmoke: installed tree per client (the client, breaker-core, prom-client and their dependencies)');
    console.log('| client | packages | size |\n| --- | ---: | ---: |');
    for (const s of sizes) console.log(`| @gl-vcci/${s.client} | ${s.packages} | ${(s.bytes / 1e6).toFixed(1)} MB |`);
    ok = true;
  } finally {
    for (const server of servers) server.close();
    if (registry?.pid) {
      registry.kill('SIGTERM');
      console.log(`smoke: stopped the registry (pid ${registry.pid})`);
    }
    if (ok) rmSync(work, { recursive: true, force: true });
    else console.error(`smoke: FAILED; work dir kept: ${work}`);
  }
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRegistry(work: string, port: number): Promise<ChildProcess> {
  const dir = join(work, 'registry');
  mkdirSync(dir, { recursive: true });
  // No `uplinks`: a package not published here is a 404, never fetched from anywhere else.
  const config = [
    `storage: ${join(dir, 'storage')}`,
    `auth: { htpasswd: { file: ${join(dir, 'htpasswd')}, max_users: -1 } }`,
    'packages:',
    "  '@gl-vcci/*': { access: $all, publish: $anonymous, unpublish: $anonymous }",
    "  '**': { access: $all, publish: $anonymous }",
    'log: { type: stdout, format: pretty, level: warn }',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config.yaml'), config);
  const log = openSync(join(dir, 'verdaccio.log'), 'a');
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules/verdaccio/bin/verdaccio'),
      '--config',
      join(dir, 'config.yaml'),
      '--listen',
      `127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', log, log] },
  );
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/-/ping`);
      if (response.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGTERM');
  throw new Error(
    `verdaccio did not answer on 127.0.0.1:${port}:\n${readFileSync(join(dir, 'verdaccio.log'), 'utf8')}`,
  );
}

/**
 * Packs the lib as `npm publish` would (same `files`), then publishes that content to the local
 * registry. The packed manifest's publishConfig names the private registry, which npm prefers to any
 * --registry flag, so the staged copy's publishConfig is pointed at the local one.
 */
async function publish(lib: PublishedLib, work: string, registryUrl: string): Promise<void> {
  const stage = join(work, 'stage', lib);
  mkdirSync(stage, { recursive: true });
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', stage], { cwd: libDir(lib) });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  await exec('tar', ['-xzf', join(stage, packed!.filename), '-C', stage]);
  const manifestPath = join(stage, 'package', 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  manifest.publishConfig = { registry: registryUrl, '@gl-vcci:registry': registryUrl };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  const host = registryUrl.replace(/^http:/, '');
  await exec('npm', ['publish', join(stage, 'package'), `--registry=${registryUrl}`, `--${host}:_authToken=smoke`], {
    cwd: stage,
    env: { ...process.env, npm_config_fetch_retries: '0' },
  });
  console.log(`smoke: published ${manifest.name}@${manifest.version} (${packed!.files.length} files)`);
}

async function consume(
  client: string,
  work: string,
  registryUrl: string,
  env: Record<string, string>,
): Promise<{ client: string; packages: number; bytes: number }> {
  const dir = join(work, 'consumers', client);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `smoke-${client}`, version: '0.0.0', private: true, type: 'module' }, null, 2),
  );
  // The consumer's .npmrc, as README "Installing one SDK" says, with the local registry standing in.
  writeFileSync(join(dir, '.npmrc'), `@gl-vcci:registry=${registryUrl}\n`);
  const npm = (...args: string[]) =>
    exec('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });

  await npm('install', `@gl-vcci/${client}`, '@gl-vcci/breaker-core', 'prom-client');

  const installed = packagesIn(join(dir, 'node_modules'));
  const names = new Set(installed.map((p) => p.name));
  const own = SDKS[client] ?? [];
  const allowed = [...own, ...(BROUGHT_BY_SDKS[client] ?? [])];
  const foreign = FORBIDDEN.filter((name) => !allowed.includes(name) && names.has(name));
  const otherClients = [...names].filter((name) => /^@gl-vcci\/.+-client$/.test(name) && name !== `@gl-vcci/${client}`);
  if (foreign.length > 0 || otherClients.length > 0) {
    throw new Error(`${client}: its installed tree holds ${[...foreign, ...otherClients].join(', ')}`);
  }
  for (const name of [`@gl-vcci/${client}`, '@gl-vcci/breaker-core', 'prom-client', ...own]) {
    if (!names.has(name)) throw new Error(`${client}: ${name} was not installed`);
  }
  const bytes = sizeOf(join(dir, 'node_modules'));
  const size = { client, packages: installed.length, bytes };

  // One call through the installed package: ESM import, then require() where Node supports it.
  writeFileSync(join(dir, 'call.mjs'), consumerScript(client, 'esm'));
  const esm = await exec(process.execPath, ['call.mjs'], { cwd: dir, env: { ...process.env, ...env } });
  console.log(`smoke: ${client} (ESM import): ${esm.stdout.trim().split('\n').pop()}`);
  if (supportsRequireEsm()) {
    writeFileSync(join(dir, 'call.cjs'), consumerScript(client, 'cjs'));
    const cjs = await exec(process.execPath, ['call.cjs'], { cwd: dir, env: { ...process.env, ...env } });
    console.log(`smoke: ${client} (require): ${cjs.stdout.trim().split('\n').pop()}`);
  }

  // Typecheck a consumer file against the installed declarations, strict, skipLibCheck false.
  await npm('install', '--save-dev', TYPESCRIPT, NODE_TYPES);
  await typecheckConsumer(dir, [client], join(dir, 'node_modules/.bin/tsc'));
  for (const resolution of RESOLUTIONS) {
    console.log(`smoke: ${client}: a consumer typechecks (strict, ${resolution}, skipLibCheck false)`);
  }
  return size;
}

function supportsRequireEsm(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 20 || (major === 20 && minor >= 19);
}

/** Installed packages (name and folder), nested ones included. */
function packagesIn(nodeModules: string): Array<{ name: string; dir: string }> {
  const found: Array<{ name: string; dir: string }> = [];
  const visit = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@')) {
        for (const scoped of readdirSync(join(dir, entry))) add(`${entry}/${scoped}`, join(dir, entry, scoped));
      } else add(entry, join(dir, entry));
    }
  };
  const add = (name: string, dir: string) => {
    found.push({ name, dir });
    visit(join(dir, 'node_modules'));
  };
  visit(nodeModules);
  return found;
}

function sizeOf(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
}

/** The same call in both module systems: `lib` is the client, `core` breaker-core. */
function consumerScript(client: string, kind: 'esm' | 'cjs'): string {
  const load =
    kind === 'esm'
      ? `import * as core from '@gl-vcci/breaker-core';\nimport * as lib from '@gl-vcci/${client}';\n`
      : `const core = require('@gl-vcci/breaker-core');\nconst lib = require('@gl-vcci/${client}');\n`;
  const body = CALLS[client];
  const run = `(async () => {\n${body}\n})().catch((error) => { console.error(error); process.exit(1); });\n`;
  return `${load}const registry = new core.BreakerRegistry({ logger: core.createLogger({ level: 'warn' }) });\nconst fail = (what) => { throw new Error('${client}: ' + what); };\n${run}`;
}

const CALLS: Record<string, string> = {
  'factor-client': `
  const defaults = lib.loadFactorDefaults(); // the table shipped in the package, found relative to it
  if (defaults.length !== 9) fail('expected the 9 shipped default rows, got ' + defaults.length);
  const factors = lib.createFactorClient({ registry, sources: { epa: { baseUrl: process.env.FACTOR_URL } }, defaults });
  const r = await factors.getFactor({ source: 'epa', activity: 'natural_gas', region: 'US', year: 2024, unit: 'kg CO2/mmBtu' });
  if (r.value !== 53.06 || r.source !== 'live' || r.factorSource !== 'EPA GHG Emission Factors Hub') fail(JSON.stringify(r));
  await factors.close();
  console.log('getFactor over HTTP: ' + r.value + ' ' + r.unit + ' (' + r.source + ', ' + r.factorSource + ')');`,
  'llm-client': `
  const llm = lib.createLlmClient({ registry, providers: { claude: { apiKey: 'sk-ant-smoke', baseURL: process.env.ANTHROPIC_URL } } });
  const r = await llm.generate({ prompt: 'ping', maxTokens: 5 });
  if (r.text !== 'pong' || r.provider !== 'claude') fail(JSON.stringify(r));
  await llm.close();
  console.log('generate against an Anthropic-shaped server: ' + r.text + ' (' + r.provider + ', ' + r.model + ')');`,
  'db-client': `
  const db = lib.createDbClient({ registry, connectionString: process.env.DATABASE_URL });
  const r = await db.query('SELECT 1 AS one');
  if (r.rows[0]?.one !== 1) fail(JSON.stringify(r.rows));
  await db.close();
  console.log('SELECT 1 on PostgreSQL: ' + r.rows[0].one + ' (' + r.source + ')');`,
  'cache-client': `
  const cache = lib.createCacheClient({ registry, url: process.env.REDIS_URL, keyPrefix: 'gl-vcci-smoke:' + process.pid + ':' });
  for (let i = 0; i < 100 && !cache.status().connected; i++) await new Promise((r) => setTimeout(r, 50));
  if (!cache.status().connected) fail('not connected to Redis at ' + process.env.REDIS_URL);
  const landed = await cache.set('k', { n: 1 }, 60000);
  const hit = await cache.get('k');
  await cache.del('k');
  if (landed !== 'redis' || hit?.tier !== 'redis' || hit?.value.n !== 1) fail(JSON.stringify({ landed, hit }));
  await cache.close();
  console.log('set/get on Redis: ' + JSON.stringify(hit));`,
  'erp-client': `
  const erp = lib.createErpClient({
    registry,
    systems: { sap: { baseUrl: process.env.SAP_URL, auth: { type: 'basic', username: 'smoke', password: 'smoke-secret' }, pageSize: 2 } },
  });
  const r = await erp.fetchSuppliers('sap', { nameStartsWith: 'Acme' });
  const names = r.value.map((s) => s.name + (s.active ? '' : ' (blocked)'));
  if (r.source !== 'live' || names.join('|') !== 'Acme Steel GmbH|Acme Logistics AG (blocked)|Acme Paper Oy') fail(JSON.stringify(r));
  if (r.value[0].createdOn !== '2024-01-01' || r.value[0].id !== '17300001') fail(JSON.stringify(r.value[0]));
  const pages = (await registry.metricsRegistry.getSingleMetric(lib.PAGES_METRIC).get()).values.find((v) => v.labels.system === 'sap');
  if (pages?.value !== 2) fail('expected 2 pages ($top 2), read ' + pages?.value);
  await erp.close();
  console.log("fetchSuppliers('sap') against an OData v2 server: " + r.value.length + ' suppliers in ' + pages.value + ' pages (' + r.source + '): ' + names.join(', '));`,
  'email-client': `
  const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'gl-vcci-smoke-outbox-'));
  try {
    const email = lib.createEmailClient({
      registry,
      sendgrid: { apiKey: 'SG.smoke', baseUrl: process.env.SENDGRID_URL },
      queue: { dir, drainIntervalMs: 0 },
    });
    const r = await email.send({ id: 'smoke-' + process.pid, to: 'ghg@supplier.example', from: 'scope3@gl-vcci.example', subject: 'Scope 3 data request', text: 'ping' });
    if (r.status !== 'sent' || r.source !== 'live' || r.messageId !== 'smoke-message-id') fail(JSON.stringify(r));
    const stats = await email.queueStats();
    const waiting = stats.depth.high + stats.depth.normal + stats.depth.low;
    if (waiting !== 0 || readdirSync(join(dir, 'pending')).length !== 0) fail('the outbox still holds ' + JSON.stringify(stats));
    await email.close();
    console.log('send against a SendGrid-shaped server: ' + r.status + ' (' + r.source + ', x-message-id ' + r.messageId + '), outbox empty');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }`,
  'breaker-sync-redis': `
  const replica = (id) => new lib.RedisStateSync({ url: process.env.REDIS_URL, keyPrefix: 'gl-vcci-smoke:' + process.pid + ':', replicaId: id, metrics: false, logger: core.createLogger({ level: 'warn' }) });
  const [a, b] = [replica('a'), replica('b')];
  for (let i = 0; i < 100 && !(a.connected && b.connected && a.subscribed && b.subscribed); i++) await new Promise((r) => setTimeout(r, 50));
  if (!a.connected || !b.connected) fail('not connected to Redis at ' + process.env.REDIS_URL);
  const breaker = (sync) => new core.CircuitBreaker({ name: 'smoke.svc', failMax: 1, openDurationMs: 2000 }, { sync });
  const [first, second] = [breaker(a), breaker(b)];
  await first.execute(() => Promise.reject(new Error('down'))).catch(() => {});
  for (let i = 0; i < 100 && second.state !== 'open'; i++) await new Promise((r) => setTimeout(r, 20));
  const adopted = second.snapshot().lastTransition;
  if (second.state !== 'open' || adopted?.reason !== 'peer_open') fail('the other replica did not adopt the opening: ' + JSON.stringify(adopted));
  await a.close();
  await b.close();
  console.log('a trip shared through Redis: the other replica is ' + second.state + ' (' + adopted.reason + ')');`,
};

/** A factor source speaking the documented contract (EPA shape), serving natural gas in the US for 2024. */
function factorSource(url: URL, _body: string): Answer {
  const q = url.searchParams;
  if (url.pathname === '/v1/emission-factors' && q.get('activity') === 'natural_gas' && q.get('region') === 'US') {
    const row = {
      activity: 'natural_gas',
      value: 53.06,
      unit: 'kg CO2/mmBtu',
      source: 'EPA GHG Emission Factors Hub',
      year: 2024,
      region: 'US',
      gas: 'CO2',
    };
    return { status: 200, body: { data: [row] } };
  }
  return { status: 404, body: { error: 'not_found', message: 'no such factor' } };
}

/** Anthropic's Messages API, just enough for one non-streamed answer. */
function anthropic(url: URL, body: string): Answer {
  if (!url.pathname.endsWith('/v1/messages')) return { status: 404, body: { type: 'error' } };
  const { model } = JSON.parse(body || '{}') as { model?: string };
  return {
    status: 200,
    body: {
      id: 'msg_smoke',
      type: 'message',
      role: 'assistant',
      model: model ?? 'claude',
      content: [{ type: 'text', text: 'pong' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 3, output_tokens: 1 },
    },
  };
}

const SAP_SUPPLIERS = [
  { Supplier: '17300001', SupplierName: 'Acme Steel GmbH', CreationDate: '/Date(1704067200000)/' },
  { Supplier: '17300002', SupplierName: 'Acme Logistics AG', PurchasingIsBlocked: true, CreationDate: null },
  { Supplier: '17300003', SupplierName: 'Borealis Chemicals', CreationDate: '/Date(1709251200000)/' },
  { Supplier: '17300004', SupplierName: 'Acme Paper Oy', CreationDate: '/Date(1711929600000)/' },
].map((s) => ({ PurchasingIsBlocked: false, DeletionIndicator: false, ...s }));

/**
 * SAP S/4HANA's API_BUSINESS_PARTNER A_Supplier as OData v2 JSON (`{ d: { results } }`), Basic auth
 * (smoke / smoke-secret), paged by `$top`/`$skip` and filtered by `startswith(SupplierName,'…') eq true`.
 */
function sapOData(url: URL, _body: string, headers: IncomingHttpHeaders): Answer {
  if (url.pathname !== '/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_Supplier') {
    return {
      status: 404,
      body: { error: { code: '/IWFND/MED/170', message: { lang: 'en', value: 'No service found' } } },
    };
  }
  if (headers.authorization !== `Basic ${Buffer.from('smoke:smoke-secret').toString('base64')}`) {
    return { status: 401, body: { error: { code: '401', message: { lang: 'en', value: 'Unauthorized' } } } };
  }
  const q = url.searchParams;
  const prefix = /^startswith\(SupplierName,'((?:[^']|'')*)'\) eq true$/.exec(q.get('$filter') ?? '')?.[1];
  const top = Number(q.get('$top') ?? 50);
  const skip = Number(q.get('$skip') ?? 0);
  const results = SAP_SUPPLIERS.filter(
    (s) => prefix === undefined || s.SupplierName.startsWith(prefix.replaceAll("''", "'")),
  ).slice(skip, skip + top);
  return { status: 200, body: { d: { results } } };
}

/** SendGrid's v3 mail send: 202, no body, the message id in `x-message-id`. */
function sendgrid(url: URL, body: string, headers: IncomingHttpHeaders): Answer {
  if (url.pathname !== '/v3/mail/send') return { status: 404, body: { errors: [{ message: 'not found' }] } };
  if (headers.authorization !== 'Bearer SG.smoke') {
    return { status: 401, body: { errors: [{ message: 'The provided authorization grant is invalid' }] } };
  }
  const mail = JSON.parse(body || '{}') as { personalizations?: Array<{ to?: Array<{ email?: string }> }> };
  if (mail.personalizations?.[0]?.to?.[0]?.email !== 'ghg@supplier.example') {
    return { status: 400, body: { errors: [{ message: 'bad personalizations', field: 'personalizations' }] } };
  }
  return { status: 202, body: undefined, headers: { 'x-message-id': 'smoke-message-id' } };
}

interface Answer {
  status: number;
  /** JSON; undefined: no body. */
  body: unknown;
  headers?: Record<string, string>;
}

async function listen(
  servers: Server[],
  handle: (url: URL, body: string, headers: IncomingHttpHeaders) => Answer,
): Promise<string> {
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      const answer = handle(new URL(request.url ?? '/', 'http://127.0.0.1'), body, request.headers);
      if (answer.body === undefined) {
        response.writeHead(answer.status, { ...answer.headers, connection: 'close' });
        response.end();
        return;
      }
      response.writeHead(answer.status, { 'content-type': 'application/json', connection: 'close', ...answer.headers });
      response.end(JSON.stringify(answer.body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

await main();
