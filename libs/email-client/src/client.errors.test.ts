import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { capturingLogger, sampleValue, testRegistry, waitFor } from '@gl-vcci/breaker-core/testing';
import { sendgridError } from '@gl-vcci/upstreams/sendgrid';
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, EMAIL_CONFIG, type Harness, harness, MAIL, mail, SENDGRID_ROUTE, tempDir } from '../test/support.js';
import { createEmailClient } from './client.js';
import { isEmailArgumentError, isEmailClosedError, isEmailQueueError, isEmailRequestError } from './errors.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const pendingFiles = (x: Harness) => readdirSync(join(x.dir, 'pending'));

describe('bad input', () => {
  it.each([
    ['to', { ...MAIL, to: 'not-an-address' }],
    ['from', { ...MAIL, from: '' }],
    ['subject', { ...MAIL, subject: '' }],
    ['text', { to: MAIL.to, from: MAIL.from, subject: 'no body' }],
    ['attachments', { ...MAIL, attachments: [{ filename: 'a.pdf', content: 'not base64!' }] }],
    ['priority', { ...MAIL, priority: 'urgent' }],
    ['subject', { ...MAIL, subject: 'Report\r\nBcc: someone@example.com' }],
  ])('a bad %s is an EmailArgumentError naming it, and is neither sent nor queued', async (field, input) => {
    h = await harness();
    await h.sim.stop(); // even with SendGrid down: such a mail would never succeed
    const error = await h.client.send(input as never).catch((e: unknown) => e);
    expect(isEmailArgumentError(error)).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`^send: .*${field}`));
    expect(await h.client.queueStats()).toMatchObject({ depth: { high: 0, normal: 0, low: 0 } });
    expect(h.sim.sends).toHaveLength(0);
  });

  it('a bad attachment is named, its content never echoed', async () => {
    h = await harness();
    const content = `CONFIDENTIAL-${'x'.repeat(10_000)}!`;
    const error = await h.client.send({ ...MAIL, attachments: [{ filename: 'a.txt', content }] }).catch((e) => e);
    expect(isEmailArgumentError(error)).toBe(true);
    const shown = inspect(error, { depth: null });
    expect(shown).toContain('attachments');
    expect(shown).not.toContain('CONFIDENTIAL');
    expect(shown.length).toBeLessThan(2_000);
  });

  it('a message over SendGrid size limit is refused before anything is written', async () => {
    h = await harness();
    const big = Buffer.alloc(23 * 1024 * 1024);
    const error = await h.client
      .send({ ...MAIL, attachments: [{ filename: 'big.bin', content: big }] })
      .catch((e) => e);
    expect(isEmailArgumentError(error)).toBe(true);
    expect((error as Error).message).toContain('attachments: expected the whole message within 31457280 bytes');
    expect(await h.client.queueStats()).toMatchObject({ depth: { high: 0, normal: 0, low: 0 } });
  });
});

describe('SendGrid refusing the mail', () => {
  it('a 400 is the caller: EmailRequestError with SendGrid text, not queued, not a breaker failure', async () => {
    h = await harness();
    h.sim.mode(SENDGRID_ROUTE, sendgridError(400, 'The to email does not contain a valid address.'));
    const error = await h.client.send(mail(1)).catch((e: unknown) => e);
    expect(isEmailRequestError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'SendGrid rejected the mail: HTTP 400 The to email does not contain a valid address.',
    );
    expect(pendingFiles(h)).toEqual([]);
    expect(readdirSync(join(h.dir, 'claimed'))).toEqual([]);
    expect(await sampleValue(h.prom, 'greenlang_circuit_breaker_calls_total', { status: 'ignored' })).toBe(1);
    // Refused, so the id is free again for the corrected mail.
    h.sim.mode(SENDGRID_ROUTE, 'healthy');
    expect((await h.client.send(mail(1))).status).toBe('sent');
  });

  it('SendGrid text that quotes the mail keeps its body and subject out of the error', async () => {
    h = await harness();
    const secret = { ...MAIL, subject: 'Quarterly emissions 4711', text: 'Dear supplier, your PIN is 99887766' };
    h.sim.mode(SENDGRID_ROUTE, sendgridError(400, `Invalid content: ${secret.text} in "${secret.subject}"`));
    const error = await h.client.send(secret).catch((e: unknown) => e);
    expect(isEmailRequestError(error)).toBe(true);
    const shown = inspect(error, { depth: null });
    expect(shown).not.toContain('99887766');
    expect(shown).not.toContain('Quarterly emissions 4711');
    expect(shown).toContain('Invalid content: [redacted]');
  });

  it('a 401 is the deployment key: logged at error naming SendGrid, counted, and the mail queued', async () => {
    const log = capturingLogger();
    h = await harness({ logger: log.logger });
    h.sim.mode(SENDGRID_ROUTE, sendgridError(401, 'authorization grant is invalid'));
    expect((await h.client.send(mail(1))).status).toBe('queued');
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 50, msg: 'credentials refused by SendGrid (HTTP 401): check the API key' }),
    );
    expect(await sampleValue(h.prom, 'greenlang_circuit_breaker_calls_total', { status: 'failure' })).toBe(1);
    expect(JSON.stringify(log.lines)).not.toContain('CONFIDENTIAL-BODY');
    expect(JSON.stringify(log.lines)).not.toContain(API_KEY);
  });
});

describe('the queue folder failing', () => {
  it('an unwritable queue_dir is an EmailQueueError at once, logged at error, never "queued"', async () => {
    const log = capturingLogger();
    const t = testRegistry({ config: EMAIL_CONFIG, logger: log.logger });
    const root = tempDir();
    writeFileSync(join(root, 'a-file'), '');
    const client = createEmailClient({
      registry: t.registry,
      sendgrid: { apiKey: API_KEY, baseUrl: 'http://127.0.0.1:9' },
      queue: { dir: join(root, 'a-file', 'queue'), drainIntervalMs: 0 },
    });
    const error = await client.send(mail(1)).catch((e: unknown) => e);
    expect(isEmailQueueError(error)).toBe(true);
    expect((error as Error).message).toMatch(/^The e-mail outbox could not store the mail: ENOTDIR/);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 50, id: 'mail-1' }));
    await client.close();
    t.registry.close();
  });
});

describe('no queue', () => {
  it('with queue_enabled false, a failure is EmailUnavailableError naming the live step', async () => {
    h = await harness({ queue: { enabled: false } });
    h.sim.mode(SENDGRID_ROUTE, { status: 503 });
    await expect(h.client.send(mail(1))).rejects.toMatchObject({
      code: 'EMAIL_UNAVAILABLE',
      message: expect.stringContaining('live: SendGrid failed: HTTP 503'),
    });
    expect(h.client.status().queue).toEqual({ enabled: false, dir: undefined });
  });
});

describe('secrets', () => {
  it('no error shows the API key or the body, however deep it is inspected', async () => {
    h = await harness();
    h.sim.mode(SENDGRID_ROUTE, sendgridError(400, `bad key ${API_KEY}`));
    const error = await h.client.send(mail(1)).catch((e: unknown) => e);
    const text = inspect(error, { depth: null });
    expect(text).toContain('bad key [redacted]');
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain('CONFIDENTIAL-BODY');
  });
});

describe('close', () => {
  it('abandons a send hung upstream with EmailClosedError, keeps the mail queued, leaves no timer, refuses new sends', async () => {
    h = await harness();
    h.sim.mode(SENDGRID_ROUTE, 'hang');
    const pending = h.client.send(mail(1)).catch((e: unknown) => e);
    await waitFor(() => h!.sim.sends.length === 1, 'the request to reach the simulator');
    await h.client.close();
    expect(isEmailClosedError(await pending)).toBe(true);
    expect(h.clock.pendingTimers).toBe(0);
    expect(pendingFiles(h)).toHaveLength(1);
    expect(h.client.status()).toMatchObject({ closed: true, circuits: { 'email_service.sendgrid': 'closed' } });
    await expect(h.client.send(mail(2))).rejects.toMatchObject({ code: 'EMAIL_CLOSED' });
    await expect(h.client.processQueue()).rejects.toMatchObject({ code: 'EMAIL_CLOSED' });
  });
});

describe('a crash mid-add', () => {
  it('a message written and reserved but not yet renamed in is put in the queue by the next drain', async () => {
    h = await harness();
    await h.sim.stop();
    await h.client.send(mail(1));
    // Rebuild the state of a crash between the id's reservation and the rename: the file back in tmp/.
    const [name] = pendingFiles(h);
    const { renameSync, utimesSync } = await import('node:fs');
    const tmp = join(h.dir, 'tmp', `${name!.split('~')[0]}~crash.tmp`);
    renameSync(join(h.dir, 'pending', name!), tmp);
    const old = new Date(Date.now() - 120_000);
    utimesSync(tmp, old, old);
    mkdirSync(join(h.dir, 'tmp'), { recursive: true });
    await h.sim.start();
    h.clock.advance(30_000);
    await h.client.processQueue();
    expect(h.sim.deliveries('mail-1')).toBe(1);
  });
});
