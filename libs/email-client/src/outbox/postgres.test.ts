import { randomUUID } from 'node:crypto';
import { sharedServer } from '@gl-vcci/upstreams/servers';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { harness, mail } from '../../test/support.js';
import type { OutboxMessage, Priority } from './outbox.js';
import { POSTGRES_OUTBOX_MIGRATIONS, PostgresOutbox } from './postgres.js';

// The Outbox contract on a real PostgreSQL (127.0.0.1:5432, db `test`; DATABASE_URL overrides),
// each test on its own table, dropped after.

const shared = await sharedServer('PostgreSQL', 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/test');
const pool = new pg.Pool({ connectionString: shared.url, max: 4 });
const tables: string[] = [];

afterEach(async () => {
  for (const table of tables.splice(0)) {
    await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_migrations`);
    if (table.includes('.')) await pool.query(`DROP SCHEMA IF EXISTS ${table.split('.')[0]} CASCADE`);
  }
});
afterAll(async () => {
  await pool.end();
});

async function outbox(options: { owner?: string; keepSentMs?: number; table?: string } = {}) {
  const table = options.table ?? `email_outbox_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  tables.push(table);
  const box = new PostgresOutbox({ pool, table, ...options });
  await box.migrate();
  return box;
}

const message = (n: number, priority: Priority = 'normal', at = n): OutboxMessage => ({
  id: `m-${n}`,
  priority,
  mail: { to: ['a@b.example'], from: 'c@d.example', subject: `s ${n}`, text: 't' },
  enqueuedAt: at,
  attempts: 0,
  nextAttemptAt: at,
});

/** Adds a message and puts it back in the queue, as a send that found the circuit open does. */
async function queued(box: PostgresOutbox, m: OutboxMessage) {
  const added = await box.add(m, m.enqueuedAt + 1_000);
  if (!added.added) throw new Error('not added');
  await box.release(added.claim, { attempts: 0, nextAttemptAt: m.nextAttemptAt });
}

describe.skipIf(!shared.available)('PostgresOutbox', () => {
  it('creates its table by the shipped migration, once, also in its own schema', async () => {
    const box = await outbox();
    expect(await box.migrate()).toEqual([]);
    const { rows } = await pool.query(`SELECT version, name FROM ${box.table}_migrations`);
    expect(rows).toEqual([{ version: 1, name: POSTGRES_OUTBOX_MIGRATIONS[0]!.name }]);
    const columns = await pool.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
      [box.table],
    );
    expect(columns.rows.map((r) => r.column_name)).toEqual(
      expect.arrayContaining(['id', 'priority', 'attempts', 'next_attempt_at', 'claimed_by', 'lease_until']),
    );
    const schema = `outbox_schema_${randomUUID().replaceAll('-', '').slice(0, 8)}`;
    const inSchema = await outbox({ table: `${schema}.outbox` });
    expect((await inSchema.stats()).deadLetters).toBe(0);
    expect(() => new PostgresOutbox({ pool, table: 'x; DROP TABLE y' })).toThrow(/lower-case identifier/);
  });

  it('adds an id once; claims in drain order (priority, then age), each message by one claimer', async () => {
    const box = await outbox();
    await queued(box, message(1, 'low', 1));
    await queued(box, message(2, 'normal', 2));
    await queued(box, message(3, 'high', 3));
    await queued(box, message(4, 'high', 4));
    expect(await box.add(message(1), 10)).toEqual({ added: false, known: { state: 'queued' } });
    const refs = await box.due(100);
    expect(refs).toHaveLength(4);
    // Four claimers at once (SKIP LOCKED): four different messages.
    const claims = await Promise.all(refs.map((ref) => box.claim(ref, 100, 1_000)));
    expect(claims.map((c) => c?.message.id).sort()).toEqual(['m-1', 'm-2', 'm-3', 'm-4']);
    const other = await outbox();
    await queued(other, message(1, 'low', 1));
    await queued(other, message(2, 'normal', 2));
    await queued(other, message(3, 'high', 3));
    const order: string[] = [];
    for (const ref of await other.due(100)) order.push((await other.claim(ref, 100, 1_000))!.message.id);
    expect(order).toEqual(['m-3', 'm-2', 'm-1']);
    expect(await other.due(100)).toEqual([]);
  });

  it('offers a claim again once its lease runs out; the first claimer can no longer release it', async () => {
    const box = await outbox({ owner: 'first' });
    const second = new PostgresOutbox({ pool, table: box.table, owner: 'second' });
    await queued(box, message(1));
    const [ref] = await box.due(10);
    const first = (await box.claim(ref!, 10, 500))!;
    expect(await second.due(499)).toEqual([]);
    const [again] = await second.due(501);
    const taken = (await second.claim(again!, 501, 5_000))!;
    expect(taken.message.id).toBe('m-1');
    await box.release(first, { attempts: 1, nextAttemptAt: 0, lastError: 'late' }); // fenced: no effect
    expect(await second.due(1_000)).toEqual([]);
    await second.complete(taken, 'sg-1', 600);
    expect(await box.lookup('m-1')).toEqual({ state: 'sent', messageId: 'sg-1' });
    await box.complete(first, 'sg-2', 700); // a duplicate send completing late keeps the first id
    expect(await box.lookup('m-1')).toEqual({ state: 'sent', messageId: 'sg-1' });
    expect(await box.add(message(1), 10)).toEqual({ added: false, known: { state: 'sent', messageId: 'sg-1' } });
  });

  it('retries later, dead-letters, requeues, discards, counts and forgets old sent ids', async () => {
    const box = await outbox({ keepSentMs: 1_000 });
    for (const n of [1, 2, 3]) await queued(box, message(n, n === 1 ? 'high' : 'low', 100 + n));
    expect(await box.stats()).toEqual({ depth: { high: 1, normal: 0, low: 2 }, oldestEnqueuedAt: 101, deadLetters: 0 });
    const claim = async () => (await box.claim((await box.due(200))[0]!, 200, 2_000))!;
    const one = await claim();
    await box.release(one, { attempts: 1, nextAttemptAt: 10_000, lastError: 'HTTP 503' });
    const two = await claim();
    expect(two.message.id).toBe('m-2');
    await box.deadLetter(two, { attempts: 3, lastError: 'HTTP 500' });
    const three = await claim();
    await box.discard(three);
    expect(await box.lookup('m-3')).toBeUndefined();
    expect(await box.lookup('m-2')).toEqual({ state: 'dead' });
    expect(await box.stats()).toMatchObject({ depth: { high: 1, normal: 0, low: 0 }, deadLetters: 1 });
    expect(await box.due(9_999)).toEqual([]);
    const retried = (await box.claim((await box.due(10_000))[0]!, 10_000, 12_000))!;
    expect(retried.message).toMatchObject({ id: 'm-1', attempts: 1, lastError: 'HTTP 503' });
    await box.complete(retried, 'sg-1', 10_000);
    expect(await box.requeueDeadLetters(11_000)).toBe(1);
    expect(await box.lookup('m-2')).toEqual({ state: 'queued' });
    await box.maintain(11_001);
    expect(await box.lookup('m-1')).toBeUndefined();
  });

  it('is the email client’s outbox: mail queued while the circuit is open is sent by the next drain', async () => {
    const box = await outbox();
    const h = await harness({ options: { outbox: box } });
    try {
      h.registry.get('email_service.sendgrid')!.forceOpen();
      for (let n = 0; n < 5; n++) expect((await h.client.send(mail(n))).status).toBe('queued');
      expect((await h.client.queueStats()).depth.normal).toBe(5);
      h.registry.get('email_service.sendgrid')!.reset();
      expect(await h.client.processQueue()).toMatchObject({ sent: 5, stopped: undefined });
      expect([...h.sim.deliveryCounts().values()]).toEqual([1, 1, 1, 1, 1]);
      expect((await h.client.send(mail(0))).duplicate).toBe(true);
    } finally {
      await h.close();
    }
  });
});
