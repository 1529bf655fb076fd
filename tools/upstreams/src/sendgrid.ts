import { randomUUID } from 'node:crypto';
import {
  type FailureMode,
  type HttpSimulator,
  json,
  type SimulatedRequest,
  startHttpSimulator,
} from './http-simulator.js';

export const SENDGRID_ROUTE = 'POST /v3/mail/send';

/** One mail SendGrid accepted (answered 202). */
export interface AcceptedMail {
  messageId: string;
  /** The v3 JSON body as received (`personalizations`, `from`, `subject`, `content`, `custom_args`…). */
  body: Record<string, unknown>;
  /** The body's `custom_args` (the SDK's `customArgs`, snake-cased on the wire). */
  customArgs: Record<string, string>;
}

export interface SendGridSimulatorOptions {
  /** When set, a request whose `Authorization` is not `Bearer <apiKey>` gets a 401. */
  apiKey?: string;
  /** Bodies larger than this many bytes (of JSON) get a 413 (default 30 MB, SendGrid's limit). */
  maxBodyBytes?: number;
}

export interface SendGridSimulator extends HttpSimulator {
  /** Every mail answered 202, in order. */
  readonly accepted: AcceptedMail[];
  /** How many times a mail carrying `custom_args[arg] === value` was accepted: the delivery count of one message. */
  deliveries(value: string, arg?: string): number;
  /** Delivery counts by the value of `custom_args[arg]` (default `outbox_id`). */
  deliveryCounts(arg?: string): Map<string, number>;
  /** The requests made to `POST /v3/mail/send` (also those answered with a failure). */
  readonly sends: SimulatedRequest[];
}

/** A failure mode answering like SendGrid v3: `{ errors: [{ message, field, help }] }`. */
export function sendgridError(
  status: number,
  message = `simulated HTTP ${status}`,
  headers: Record<string, string> = {},
): FailureMode {
  return { status, body: { errors: [{ message, field: null, help: null }] }, headers };
}

/**
 * SendGrid's v3 mail send (`POST /v3/mail/send`) on 127.0.0.1: 202 with an empty body and an
 * `x-message-id`, or, as the real service does, 400 with an `errors` body for a mail without
 * personalizations, from, subject or content; 401 for a wrong key; 413 for a body over the limit.
 * Failure modes (429 with Retry-After, 5xx, hang, reset) through `mode(SENDGRID_ROUTE, …)`. Point
 * the SDK at it with `client.setApiKey(key)` THEN `client.setDefaultRequest('baseUrl', sim.url)`.
 */
export async function startSendGridSimulator(options: SendGridSimulatorOptions = {}): Promise<SendGridSimulator> {
  const accepted: AcceptedMail[] = [];
  const maxBodyBytes = options.maxBodyBytes ?? 30 * 1024 * 1024;
  const sim = await startHttpSimulator({
    [SENDGRID_ROUTE]: (request, response) => {
      if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
        return json(response, 401, {
          errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null }],
        });
      }
      const size = Buffer.byteLength(JSON.stringify(request.body ?? ''));
      if (size > maxBodyBytes) {
        return json(response, 413, { errors: [{ message: 'Request entity too large', field: null }] });
      }
      const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<
        string,
        unknown
      >;
      const problems = invalid(body);
      if (problems.length > 0) return json(response, 400, { errors: problems });
      const messageId = randomUUID().replaceAll('-', '').slice(0, 22);
      const customArgs = (body.custom_args ?? {}) as Record<string, string>;
      accepted.push({ messageId, body, customArgs });
      response.writeHead(202, { 'x-message-id': messageId, 'content-length': '0' });
      response.end();
    },
  });
  const counts = (arg: string) => {
    const out = new Map<string, number>();
    for (const mail of accepted) {
      const value = mail.customArgs[arg];
      if (value !== undefined) out.set(value, (out.get(value) ?? 0) + 1);
    }
    return out;
  };
  return {
    ...sim,
    accepted,
    deliveries: (value, arg = 'outbox_id') => accepted.filter((m) => m.customArgs[arg] === value).length,
    deliveryCounts: (arg = 'outbox_id') => counts(arg),
    get sends() {
      return sim.requests.filter((r) => r.method === 'POST' && r.path === '/v3/mail/send');
    },
  };
}

/** The checks SendGrid makes that a test relies on, in its own words. */
function invalid(body: Record<string, unknown>): Array<{ message: string; field: string; help: null }> {
  const errors: Array<{ message: string; field: string; help: null }> = [];
  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    errors.push({
      message: 'The personalizations field is required and must have at least one personalization.',
      field: 'personalizations',
      help: null,
    });
  }
  const from = body.from as { email?: unknown } | undefined;
  if (typeof from?.email !== 'string' || !from.email.includes('@')) {
    errors.push({ message: 'The from email does not contain a valid address.', field: 'from.email', help: null });
  }
  if (typeof body.subject !== 'string' || body.subject === '') {
    errors.push({ message: 'The subject is required.', field: 'subject', help: null });
  }
  const content = body.content;
  if (!Array.isArray(content) || content.length === 0) {
    errors.push({
      message: 'Unless a valid template_id is provided, the content parameter is required.',
      field: 'content',
      help: null,
    });
  }
  return errors;
}
