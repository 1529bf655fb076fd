import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, harness, MAIL, mail, SENDGRID_ROUTE } from '../test/support.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('send', () => {
  it('sends a mail live through SendGrid with its id in custom_args, and removes it from the outbox', async () => {
    h = await harness();
    const result = await h.client.send({ ...MAIL, id: 'invoice-42' });
    expect(result).toEqual({
      status: 'sent',
      id: 'invoice-42',
      messageId: h.sim.accepted[0]!.messageId,
      source: 'live',
    });
    expect(h.sim.accepted[0]!.body).toMatchObject({
      personalizations: [{ to: [{ email: 'supplier@example.com' }] }],
      from: { email: 'reports@gl-vcci.example' },
      subject: 'Scope 3 data request',
      custom_args: { outbox_id: 'invoice-42' },
    });
    expect(h.sim.sends[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(await h.client.queueStats()).toEqual({
      depth: { high: 0, normal: 0, low: 0 },
      oldestEnqueuedAt: undefined,
      deadLetters: 0,
    });
  });

  it('queues the mail when SendGrid fails with a 5xx, and sends it once on the next drain', async () => {
    h = await harness();
    h.sim.mode(SENDGRID_ROUTE, { status: 503 });
    expect(await h.client.send(mail(1))).toEqual({ status: 'queued', id: 'mail-1', source: 'queued' });
    h.sim.mode(SENDGRID_ROUTE, 'healthy');
    h.clock.advance(1_000);
    expect(await h.client.processQueue()).toMatchObject({ sent: 1, retried: 0, deadLettered: 0 });
    expect(h.sim.deliveries('mail-1')).toBe(1);
    expect((await h.client.queueStats()).depth.normal).toBe(0);
  });
});
