import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@gl-vcci/breaker-core/testing';
import { sharedServer } from '@gl-vcci/upstreams/servers';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, harness, mail } from '../../test/support.js';
import type { Priority } from './outbox.js';
import { PostgresOutbox } from './postgres.js';

// Three drainer processes (test/pg-drain-child.mjs, the built package) on one PostgreSQL outbox
// holding 3 000 mails; one is SIGKILLed mid-run. Counted by the SendGrid simulator per message id
// (custom_args.outbox_id). The figures are printed for the README.

const shared = await sharedServer('PostgreSQL', 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/test');
const CHILD = fileURLToPath(new URL('../../test/pg-drain-child.mjs', import.meta.url));
const MAILS = 3_000;
const DRAINERS = 3;
const LEASE_MS = 3_000;
const KILL_AFTER = 800;
const PRIORITIES: Priority[] = ['high', 'normal', 'low'];

const pool = new pg.Pool({ connectionString: shared.url, max: 10 });
const table = `email_outbox_crash_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
let h: Harness | undefined;
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await h?.close();
  await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_migrations`);
  await pool.end();
});

describe.skipIf(!shared.available)('three drainers on one PostgreSQL outbox, one killed with SIGKILL', () => {
  it('delivers every mail, once except those the killed drainer had in flight, and loses none', async () => {
    const outbox = new PostgresOutbox({ pool, table, owner: 'test' });
    await outbox.migrate();
    h = await harness({ options: { outbox } });
    const breaker = h.registry.get('email_service.sendgrid')!;
    breaker.forceOpen();
    for (let n = 0; n < MAILS; n += 50) {
      const batch = Array.from({ length: 50 }, (_, i) =>
        h!.client.send(mail(n + i, { priority: PRIORITIES[(n + i) % 3]! })),
      );
      for (const result of await Promise.all(batch)) expect(result.status).toBe('queued');
    }
    expect(await h.client.queueStats()).toMatchObject({ depth: { high: 1_000, normal: 1_000, low: 1_000 } });
    await h.client.close(); // nothing drains in this process

    const outputs: string[] = [];
    const exits: Array<Promise<number | null>> = [];
    for (let n = 0; n < DRAINERS; n++) {
      const child = spawn(process.execPath, [CHILD, shared.url, table, h.sim.url, `drainer-${n}`, String(LEASE_MS)], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, SENDGRID_API_KEY: API_KEY },
      });
      child.stdout!.on('data', (chunk: Buffer) => outputs.push(chunk.toString()));
      exits.push(new Promise((resolve) => child.once('exit', (code) => resolve(code))));
      children.push(child);
    }
    const started = Date.now();
    await waitFor(() => h!.sim.accepted.length >= KILL_AFTER, `${KILL_AFTER} mails accepted`, 60_000);
    children[0]!.kill('SIGKILL');
    await exits[0];
    const killedAt = h.sim.accepted.length;
    const { rows } = await pool.query(
      `SELECT id FROM ${table} WHERE state = 'queued' AND claimed_by LIKE 'drainer-0/%'`,
    );
    const claimedAtKill = rows.map((r) => r.id as string);
    const survivors = await Promise.all(exits.slice(1));
    expect(survivors).toEqual([0, 0]);

    const counts = h.sim.deliveryCounts();
    const ids = Array.from({ length: MAILS }, (_, n) => `mail-${n}`);
    const lost = ids.filter((id) => !counts.has(id));
    const duplicated = [...counts].filter(([, c]) => c > 1).map(([id]) => id);
    const figures = {
      mails: MAILS,
      drainers: DRAINERS,
      leaseMs: LEASE_MS,
      acceptedAtKill: killedAt,
      claimedByKilledDrainer: claimedAtKill.length,
      deliveries: h.sim.accepted.length,
      delivered: counts.size,
      duplicates: duplicated.length,
      lost: lost.length,
      perDrainer: outputs
        .join('')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { owner: string; sent: number }),
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    console.log(`postgres outbox test figures: ${JSON.stringify(figures)}`);

    expect(lost).toEqual([]);
    expect(claimedAtKill.length).toBeGreaterThan(0);
    // Every mail the killed drainer held was delivered, by the others after its lease.
    for (const id of claimedAtKill) expect(counts.get(id)).toBeGreaterThanOrEqual(1);
    // A duplicate is only a mail it had in flight (sent, not yet recorded) when it died.
    expect(duplicated.filter((id) => !claimedAtKill.includes(id))).toEqual([]);
    expect(h.sim.accepted.length).toBe(MAILS + duplicated.length);
    const { rows: left } = await pool.query(`SELECT state, count(*)::int AS n FROM ${table} GROUP BY state`);
    expect(left).toEqual([{ state: 'sent', n: MAILS }]);
  });
});
