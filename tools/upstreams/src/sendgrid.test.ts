import { afterEach, describe, expect, it } from 'vitest';
import { SENDGRID_ROUTE, type SendGridSimulator, sendgridError, startSendGridSimulator } from './sendgrid.js';

let sim: SendGridSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const MAIL = {
  personalizations: [{ to: [{ email: 'a@example.com' }] }],
  from: { email: 'b@example.com' },
  subject: 'hi',
  content: [{ type: 'text/plain', value: 'hello' }],
};

const post = (s: SendGridSimulator, body: unknown, key = 'SG.test') =>
  fetch(`${s.url}/v3/mail/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });

describe('startSendGridSimulator', () => {
  it('accepts a mail with 202, an empty body and an x-message-id, and counts it by custom_args', async () => {
    sim = await startSendGridSimulator();
    const response = await post(sim, { ...MAIL, custom_args: { outbox_id: 'm-1' } });
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
    const id = response.headers.get('x-message-id');
    expect(id).toMatch(/^\w{22}$/);
    await post(sim, { ...MAIL, custom_args: { outbox_id: 'm-1' } });
    expect(sim.accepted[0]).toMatchObject({ messageId: id, customArgs: { outbox_id: 'm-1' } });
    expect(sim.deliveries('m-1')).toBe(2);
    expect(sim.deliveryCounts()).toEqual(new Map([['m-1', 2]]));
  });

  it('answers 400 with an errors body naming the field, and accepts nothing', async () => {
    sim = await startSendGridSimulator();
    const response = await post(sim, { ...MAIL, subject: '' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ errors: [expect.objectContaining({ field: 'subject' })] });
    expect(sim.accepted).toHaveLength(0);
    expect(sim.sends).toHaveLength(1);
  });

  it('answers 401 to another key and 413 to a body over the limit', async () => {
    sim = await startSendGridSimulator({ apiKey: 'SG.right', maxBodyBytes: 500 });
    expect((await post(sim, MAIL, 'SG.wrong')).status).toBe(401);
    expect(
      (await post(sim, { ...MAIL, content: [{ type: 'text/plain', value: 'x'.repeat(600) }] }, 'SG.right')).status,
    ).toBe(413);
    expect((await post(sim, MAIL, 'SG.right')).status).toBe(202);
  });

  it('fails as told: 429 with Retry-After, then healthy again', async () => {
    sim = await startSendGridSimulator();
    sim.mode(SENDGRID_ROUTE, sendgridError(429, 'too many requests', { 'retry-after': '7' }));
    const limited = await post(sim, MAIL);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({ errors: [expect.objectContaining({ message: 'too many requests' })] });
    sim.mode(SENDGRID_ROUTE, 'healthy');
    expect((await post(sim, MAIL)).status).toBe(202);
    expect(sim.accepted).toHaveLength(1);
  });
});
