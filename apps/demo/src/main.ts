#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createDemo, demoTimings } from './app.js';
import { runScenario } from './scenario.js';
import { buildServer } from './server.js';
import { startTraffic } from './traffic.js';

const USAGE = `npm run demo [-- options]

  (no option)     the scripted outage scenario (about a minute), narrated, with the dashboard up meanwhile
  --short         the short scenario (the one npm test runs)
  --serve         after the scenario, keep the API and the dashboard up with light traffic (Ctrl-C stops)
  --no-scenario   with --serve: skip the scenario
  --port N        HTTP port (default 3700; 0: any free port)
  --host H        bind address (default 127.0.0.1)

  GL_VCCI_OPERATOR_TOKEN   bearer token of the operator endpoints (/circuits/:name…); unset: they are off
  DATABASE_URL, REDIS_URL  PostgreSQL and Redis to use (default: the local servers if they answer)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean', default: false },
      serve: { type: 'boolean', default: false },
      'no-scenario': { type: 'boolean', default: false },
      port: { type: 'string', default: process.env.DEMO_PORT ?? '3700' },
      host: { type: 'string', default: process.env.DEMO_HOST ?? '127.0.0.1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const serve = values.serve;
  const scenario = !(serve && values['no-scenario']);
  console.log('GL-VCCI demo: starting the simulated upstreams, PostgreSQL and Redis …');
  const demo = await createDemo({ short: values.short, ...(serve ? { factorCacheTtlMs: 20_000 } : {}) });
  const app = await buildServer(demo, {
    ...(process.env.GL_VCCI_OPERATOR_TOKEN ? { operatorToken: process.env.GL_VCCI_OPERATOR_TOKEN } : {}),
  });
  let address: string;
  try {
    address = await app.listen({ host: values.host, port: Number(values.port) });
  } catch {
    address = await app.listen({ host: values.host, port: 0 });
  }
  console.log(`  ${demo.backends.postgres.describe}`);
  console.log(`  ${demo.backends.redis.describe}`);
  console.log(
    `  config: config/circuit_breaker_config.yaml (${process.env.GL_VCCI_ENV ?? 'development'}), demo timings over it: ${JSON.stringify(demoTimings(demo.short))}`,
  );
  console.log(
    `  dashboard: ${address}/   API: POST ${address}/calculate, /intake/run, /reports/send; GET /health/circuit-breakers, /metrics`,
  );
  console.log(
    `  operator endpoints: ${process.env.GL_VCCI_OPERATOR_TOKEN ? 'on (bearer token from GL_VCCI_OPERATOR_TOKEN)' : 'off (set GL_VCCI_OPERATOR_TOKEN)'}`,
  );
  if (demo.logFile) console.log(`  log: ${demo.logFile}`);

  let code = 0;
  const stop = async () => {
    await app.close();
    await demo.close();
  };
  if (scenario) {
    const result = await runScenario(demo, { progress: true });
    console.log('\nPer circuit, at the end:\n');
    console.log(result.table);
    console.log(
      `\ncalculator latency during the ecoinvent outage: before the trip p50 ${result.latency.beforeTrip.p50} ms / p99 ${result.latency.beforeTrip.p99} ms (n=${result.latency.beforeTrip.n}); after the trip p50 ${result.latency.afterTrip.p50} ms / p99 ${result.latency.afterTrip.p99} ms (n=${result.latency.afterTrip.n})`,
    );
    console.log('\nInvariants:');
    for (const i of result.invariants) console.log(`  ${i.ok ? 'PASS' : 'FAIL'}  ${i.name}: ${i.detail}`);
    console.log(
      `\n${result.ok ? 'All invariants hold.' : 'AN INVARIANT FAILED.'} (${(result.durationMs / 1000).toFixed(1)} s)`,
    );
    code = result.ok ? 0 : 1;
  }
  if (!serve) {
    await stop();
    return code;
  }
  console.log(`\nServing: dashboard at ${address}/ — light traffic keeps the circuits busy; Ctrl-C stops.`);
  const traffic = startTraffic(demo);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  traffic();
  await stop();
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('demo failed:', error);
    process.exit(2);
  },
);
