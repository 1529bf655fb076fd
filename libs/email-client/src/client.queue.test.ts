import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sampleValue, waitFor } from '@gl-vcci/breaker-core/testing';
import { sendgridError } from '@gl-vcci/upstreams/sendgrid';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness, mail, OPEN_DURATION_MS, SENDGRID_ROUTE } from '../test/support.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const subjects = (x: Harness) => x.sim.accepted.map((m) => m.body.subject);

describe('the outbox', () => {
  it('queues through an outage and drains on recovery in priority order, FIFO within one, each delivered once', async () => {
    // One send at a time, so arrival order is drain order (with more, it is the order sends start).
    h = await harness({ queue: { concurrency: 1 } });
    await h.sim.stop();
    const order: Array<[number, 'high' | 'normal' | 'low']> = [
      [1, 'low'],
      [2, 'normal'],
      [3, 'high'],
      [4, 'low'],
      [5, 'high'],
      [6, 'normal'],
    ];
    for (const [n, priority] of order) {
      expect(await h.client.send(mail(n, { priority }))).toMatchObject({ status: 'queued', source: 'queued' });
    }
    expect(h.client.status().circuits['email_service.sendgrid']).toBe('open');
    expect((await h.client.queueStats()).depth).toEqual({ high: 2, normal: 2, low: 2 });
    await h.sim.start();
    h.clock.advance(OPEN_DURATION_MS);
    const report = await h.client.processQueue();
    expect(report).toEqual({ sent: 6, retried: 0, deadLettered: 0, stopped: undefined });
    expect(subjects(h)).toEqual(['request 3', 'request 5', 'request 2', 'request 6', 'request 1', 'request 4']);
    expect([...h.sim.deliveryCounts().values()]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await h.client.queueStats()).toMatchObject({
      depth: { high: 0, normal: 0, low: 0 },
      oldestEnqueuedAt: undefined,
    });
  });

  it('stops draining as soon as the circuit opens again, leaving the rest queued', async () => {
    h = await harness({ queue: { concurrency: 1 } });
    h.registry.get('email_service.sendgrid')!.forceOpen();
    for (let n = 1; n <= 5; n++) await h.client.send(mail(n));
    h.registry.get('email_service.sendgrid')!.reset();
    h.sim.mode(SENDGRID_ROUTE, { status: 502 });
    const report = await h.client.processQueue();
    expect(report).toEqual({ sent: 0, retried: 2, deadLettered: 0, stopped: 'circuit_open' });
    expect(h.sim.sends).toHaveLength(2);
    expect((await h.client.queueStats()).depth.normal).toBe(5);
  });

  it('backs off per message, honouring Retry-After from a 429', async () => {
    h = await harness();
    h.sim.mode(SENDGRID_ROUTE, sendgridError(429, 'too many requests', { 'retry-after': '120' }));
    expect((await h.client.send(mail(1))).status).toBe('queued');
    h.sim.mode(SENDGRID_ROUTE, 'healthy');
    h.clock.advance(119_000);
    expect(await h.client.processQueue()).toMatchObject({ sent: 0 });
    h.clock.advance(1_000);
    expect(await h.client.processQueue()).toMatchObject({ sent: 1 });
    expect(h.sim.deliveries('mail-1')).toBe(1);
  });

  it('dead-letters a message after max_attempts with its last error, and requeueDeadLetters sends it again', async () => {
    h = await harness({ options: { breaker: { failMax: 10 } } });
    h.sim.mode(SENDGRID_ROUTE, { status: 500 });
    await h.client.send(mail(1)); // attempt 1
    h.clock.advance(1_000);
    expect(await h.client.processQueue()).toMatchObject({ retried: 1 }); // attempt 2
    h.clock.advance(2_000);
    expect(await h.client.processQueue()).toMatchObject({ deadLettered: 1 }); // attempt 3 of 3
    expect(await h.client.queueStats()).toMatchObject({ depth: { normal: 0 }, deadLetters: 1 });
    const [dead] = await readdir(join(h.dir, 'dead'));
    const { readFile } = await import('node:fs/promises');
    expect(JSON.parse(await readFile(join(h.dir, 'dead', dead!), 'utf8'))).toMatchObject({
      id: 'mail-1',
      attempts: 3,
      lastError: expect.stringContaining('HTTP 500'),
    });
    expect(await sampleValue(h.prom, 'greenlang_email_dead_lettered_total')).toBe(1);
    expect(await h.client.send(mail(1))).toMatchObject({ status: 'queued', duplicate: true });

    h.sim.mode(SENDGRID_ROUTE, 'healthy');
    expect(await h.client.requeueDeadLetters()).toBe(1);
    expect(await h.client.processQueue()).toMatchObject({ sent: 1 });
    expect(h.sim.deliveries('mail-1')).toBe(1);
    expect(await h.client.queueStats()).toMatchObject({ deadLetters: 0 });
  });

  it('two drainers on one folder never send the same message twice', async () => {
    h = await harness();
    h.registry.get('email_service.sendgrid')!.forceOpen();
    for (let n = 0; n < 200; n++) await h.client.send(mail(n));
    await h.client.close();
    const a = h.second();
    const b = h.second();
    const [ra, rb] = await Promise.all([a.processQueue(), b.processQueue()]);
    expect(ra.sent + rb.sent).toBe(200);
    expect(h.sim.accepted).toHaveLength(200);
    expect(h.sim.deliveryCounts().size).toBe(200);
  });

  it('keeps the folder 0700 and every message file 0600', async () => {
    h = await harness();
    await h.sim.stop();
    await h.client.send(mail(1));
    expect(statSync(h.dir).mode & 0o777).toBe(0o700);
    for (const sub of ['pending', 'claimed', 'dead', 'keys', 'tmp'])
      expect(statSync(join(h.dir, sub)).mode & 0o777).toBe(0o700);
    const [file] = await readdir(join(h.dir, 'pending'));
    expect(statSync(join(h.dir, 'pending', file!)).mode & 0o777).toBe(0o600);
  });

  it('an id sent once is not sent again: the second send answers with the first result', async () => {
    h = await harness();
    const first = await h.client.send(mail(1));
    const again = await h.client.send(mail(1));
    expect(again).toEqual({ ...first, duplicate: true });
    const both = await Promise.all([h.client.send(mail(2)), h.client.send(mail(2))]);
    expect(both.map((r) => r.status)).toEqual(['sent', 'sent']);
    expect(h.sim.deliveries('mail-1')).toBe(1);
    expect(h.sim.deliveries('mail-2')).toBe(1);
  });

  it('an id already queued is queued once and delivered once', async () => {
    h = await harness();
    await h.sim.stop();
    await h.client.send(mail(1));
    expect(await h.client.send(mail(1))).toEqual({ status: 'queued', id: 'mail-1', source: 'queued', duplicate: true });
    await h.sim.start();
    h.clock.advance(OPEN_DURATION_MS);
    await h.client.processQueue();
    expect(h.sim.deliveries('mail-1')).toBe(1);
  });

  it('drains by itself when a live send closes the circuit again', async () => {
    h = await harness();
    await h.sim.stop();
    for (let n = 1; n <= 3; n++) await h.client.send(mail(n));
    await h.sim.start();
    h.clock.advance(OPEN_DURATION_MS);
    expect((await h.client.send(mail(4))).status).toBe('sent'); // the half-open trial closes the circuit
    await waitFor(() => h!.sim.accepted.length === 4, 'the queued mails to be drained');
    expect(subjects(h).slice(1).sort()).toEqual(['request 1', 'request 2', 'request 3']);
  });

  it('drains on its interval, and close() leaves no timer behind', async () => {
    h = await harness({ queue: { drainIntervalMs: 60_000 } });
    h.sim.mode(SENDGRID_ROUTE, { status: 503 });
    await h.client.send(mail(1));
    h.sim.mode(SENDGRID_ROUTE, 'healthy');
    expect(h.clock.pendingTimers).toBe(1);
    h.clock.advance(60_000);
    await waitFor(() => h!.sim.deliveries('mail-1') === 1, 'the interval drain');
    await h.client.close();
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('publishes sent, queued, depth and oldest-age metrics', async () => {
    h = await harness();
    await h.client.send(mail(1));
    h.sim.mode(SENDGRID_ROUTE, { status: 503 });
    await h.client.send(mail(2, { priority: 'high' }));
    h.clock.advance(90_000);
    expect(await sampleValue(h.prom, 'greenlang_email_sent_total', { source: 'live' })).toBe(1);
    expect(await sampleValue(h.prom, 'greenlang_email_queued_total', { priority: 'high' })).toBe(1);
    expect(await sampleValue(h.prom, 'greenlang_email_queue_depth', { priority: 'high' })).toBe(1);
    expect(await sampleValue(h.prom, 'greenlang_email_queue_depth', { priority: 'low' })).toBe(0);
    expect(await sampleValue(h.prom, 'greenlang_email_oldest_queued_seconds')).toBe(90);
    h.sim.mode(SENDGRID_ROUTE, 'healthy');
    await h.client.processQueue();
    expect(await sampleValue(h.prom, 'greenlang_email_sent_total', { source: 'queued' })).toBe(1);
    expect(await sampleValue(h.prom, 'greenlang_email_oldest_queued_seconds')).toBe(0);
  });
});
