// A drainer in its own process, for the crash test: drains the queue folder argv[2] into the
// SendGrid simulator at argv[3] until it is killed (or the queue is empty). Runs the built package.
import { BreakerRegistry } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { createEmailClient } from '../dist/index.js';

const [dir, url, leaseMs] = process.argv.slice(2);
const registry = new BreakerRegistry({ metrics: false, logger: silentLogger() });
const client = createEmailClient({
  registry,
  sendgrid: { apiKey: process.env.SENDGRID_API_KEY, baseUrl: url },
  queue: { dir, drainIntervalMs: 0, concurrency: 4, leaseMs: Number(leaseMs) },
});
const report = await client.processQueue();
process.stdout.write(`${JSON.stringify(report)}\n`);
await client.close();
registry.close();
