import { type Issue, parseOrThrow } from '@gl-vcci/breaker-core/client';
import { z } from 'zod';
import { EmailArgumentError } from './errors.js';
import type { MailAttachment, OutboxMail, Priority } from './outbox/outbox.js';
import { PRIORITIES } from './outbox/outbox.js';
import type { EmailMessage } from './types.js';

/** SendGrid's limit on a whole message (JSON body), attachments included. */
export const MAX_MESSAGE_BYTES = 30 * 1024 * 1024;
const MAX_RECIPIENTS = 1_000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const address = z.email({ error: 'expected an e-mail address' });
const addresses = z.union([address, z.array(address).min(1).max(MAX_RECIPIENTS)], {
  error: `expected an e-mail address or an array of 1 to ${MAX_RECIPIENTS}`,
});
const attachment = z.strictObject({
  filename: z.string().min(1).max(255),
  content: z.union([
    z.instanceof(Buffer),
    // Its content is the caller's document: described, never echoed.
    z
      .string({ error: 'expected base64 text or a Buffer, got <hidden>' })
      .refine((s) => s.length % 4 === 0 && BASE64.test(s), {
        error: 'expected base64 text or a Buffer, got text that is not base64 (not shown)',
      }),
  ]),
  type: z.string().min(1).optional(),
  disposition: z.enum(['attachment', 'inline']).optional(),
  contentId: z.string().min(1).optional(),
});

const schema = z
  .strictObject({
    to: addresses,
    cc: addresses.optional(),
    bcc: addresses.optional(),
    from: address,
    replyTo: address.optional(),
    subject: z
      .string()
      .min(1, { error: 'expected a non-empty subject' })
      .max(998)
      // A line break in a header would end it early at SendGrid or start another header.
      .refine((s) => !/[\r\n]/.test(s), { error: 'expected a subject without line breaks' }),
    text: z.string().optional(),
    html: z.string().optional(),
    attachments: z.array(attachment).max(100).optional(),
    priority: z.enum(PRIORITIES as [Priority, ...Priority[]]).optional(),
    id: z.string().min(1).max(256).optional(),
  })
  .refine((m) => m.text !== undefined || m.html !== undefined, { error: 'expected text or html', path: ['text'] });

const list = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/**
 * The caller's message checked and in the outbox's form, or EmailArgumentError naming each bad
 * field. A mail that can never be sent (bad address, nothing to say, over SendGrid's size) is
 * refused here, so it is never queued.
 */
export function checkMessage(input: EmailMessage): { mail: OutboxMail; priority: Priority; id: string | undefined } {
  const m = parseOrThrow(schema, input, 'send', (message, issues) => new EmailArgumentError(message, issues));
  const mail: OutboxMail = {
    to: list(m.to)!,
    ...(m.cc === undefined ? {} : { cc: list(m.cc)! }),
    ...(m.bcc === undefined ? {} : { bcc: list(m.bcc)! }),
    from: m.from,
    ...(m.replyTo === undefined ? {} : { replyTo: m.replyTo }),
    subject: m.subject,
    ...(m.text === undefined ? {} : { text: m.text }),
    ...(m.html === undefined ? {} : { html: m.html }),
    ...(m.attachments === undefined ? {} : { attachments: m.attachments.map(encode) }),
  };
  const size = Buffer.byteLength(JSON.stringify(mail));
  if (size > MAX_MESSAGE_BYTES) {
    const issue: Issue = {
      path: m.attachments ? 'attachments' : 'text',
      message: `expected the whole message within ${MAX_MESSAGE_BYTES} bytes (SendGrid's limit), got ${size}`,
    };
    throw new EmailArgumentError(`send: ${issue.path}: ${issue.message}`, [issue]);
  }
  return { mail, priority: m.priority ?? 'normal', id: m.id };
}

function encode(a: z.infer<typeof attachment>): MailAttachment {
  return {
    filename: a.filename,
    content: typeof a.content === 'string' ? a.content : a.content.toString('base64'),
    ...(a.type === undefined ? {} : { type: a.type }),
    ...(a.disposition === undefined ? {} : { disposition: a.disposition }),
    ...(a.contentId === undefined ? {} : { contentId: a.contentId }),
  };
}
