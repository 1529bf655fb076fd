// A drainer in its own process, for the PostgreSQL outbox test: drains the table argv[3] on the
// database argv[2] into the SendGrid simulator at argv[4], as owner argv[5] with a lease of argv[6]
// ms, round after round until nothing is queued (claims of a dead drainer come back after their
// lease). Prints what it sent. Runs the built package.
import { BreakerRegistry } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import pg from 'pg';
import { createEmailClient, PostgresOutbox } from '../dist/index.js';

const [url, table, sendgridUrl, owner, leaseMs] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: 5 });
const registry = new BreakerRegistry({ metrics: false, logger: silentLogger() });
const client = createEmailClient({
  registry,
  sendgrid: { apiKey: process.env.SENDGRID_API_KEY, baseUrl: sendgridUrl },
  outbox: new PostgresOutbox({ pool, table, owner }),
  breaker: { callTimeoutMs: 1_000 },
  queue: { drainIntervalMs: 0, concurrency: 4, leaseMs: Number(leaseMs) },
});
let sent = 0;
for (;;) {
  const report = await client.processQueue();
  sent += report.sent;
  const { depth } = await client.queueStats();
  if (depth.high + depth.normal + depth.low === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
process.stdout.write(`${JSON.stringify({ owner, sent })}\n`);
await client.close();
registry.close();
await pool.end();
