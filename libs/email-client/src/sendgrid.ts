import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { parseRetryAfter } from '@gl-vcci/breaker-core';
import { detachCause, httpStatusClass, MAX_TIMER_MS, raceAbort, redactSecrets } from '@gl-vcci/breaker-core/client';
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { EmailRequestError, EmailUpstreamError } from './errors.js';
import type { OutboxMessage } from './outbox/outbox.js';

export const SENDGRID_BASE_URL = 'https://api.sendgrid.com/';

export interface SendGridTransport {
  /** Sends one message; resolves with SendGrid's `x-message-id`. Rejects with EmailRequestError or EmailUpstreamError. */
  send(message: OutboxMessage, signal: AbortSignal): Promise<string | undefined>;
  /** Destroys the client's sockets: a request hung upstream ends at once. */
  close(): void;
}

/**
 * @sendgrid/mail on its own `Client` (never the package singletons, which other code may
 * configure), with a request timeout, and its own agents so `close()` can cut hung sockets. The
 * base URL is set AFTER `setApiKey`, which resets it to SendGrid's host. The SDK takes no signal:
 * the breaker's deadline and `close()` stop waiting for it, the timeout and the agents stop it.
 */
export function createSendGridTransport(options: {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
}): SendGridTransport {
  const client = new Client();
  client.setApiKey(options.apiKey);
  const httpAgent = new HttpAgent({ keepAlive: true });
  const httpsAgent = new HttpsAgent({ keepAlive: true });
  // axios options beyond the SDK's typed ClientRequest: the object form passes them through.
  const defaults = { baseUrl: options.baseUrl, httpAgent, httpsAgent };
  client.setDefaultRequest(defaults as unknown as Parameters<Client['setDefaultRequest']>[0]);
  const mail = new MailService();
  mail.setClient(client);
  mail.setTimeout(options.timeoutMs);
  const secrets = [options.apiKey];
  return {
    async send(message, signal) {
      try {
        const [response] = await raceAbort(
          mail.send(toSendGrid(message) as Parameters<MailService['send']>[0]),
          signal,
        );
        const id = (response.headers as Record<string, unknown>)['x-message-id'];
        return typeof id === 'string' ? id : undefined;
      } catch (error) {
        if (signal.aborted && error === signal.reason) throw error;
        // SendGrid's text may quote the mail: its subject and body are kept out like the key.
        const { subject, text, html } = message.mail;
        throw toEmailError(error, [...secrets, subject, ...(text ? [text] : []), ...(html ? [html] : [])]);
      }
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

function toSendGrid(message: OutboxMessage) {
  const { mail } = message;
  return {
    to: mail.to,
    ...(mail.cc ? { cc: mail.cc } : {}),
    ...(mail.bcc ? { bcc: mail.bcc } : {}),
    from: mail.from,
    ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
    subject: mail.subject,
    ...(mail.text === undefined ? {} : { text: mail.text }),
    ...(mail.html === undefined ? {} : { html: mail.html }),
    ...(mail.attachments ? { attachments: mail.attachments } : {}),
    // Echoed on SendGrid's event webhook: how a duplicate send is traced to its outbox message.
    customArgs: { outbox_id: message.id },
  };
}

interface SdkResponseError {
  code: number;
  response?: { headers?: Record<string, unknown>; body?: { errors?: Array<{ message?: unknown }> } };
}

function isResponseError(error: unknown): error is SdkResponseError {
  return typeof (error as { code?: unknown } | null)?.code === 'number' && 'response' in (error as object);
}

/** The SDK's error as this client's: HTTP errors by status, anything else a transport failure. */
export function toEmailError(error: unknown, secrets: readonly string[], now = Date.now()): Error {
  const cause = detachCause(error, secrets);
  if (!isResponseError(error)) {
    const code = (error as { code?: unknown } | null)?.code;
    const text = redactSecrets(error instanceof Error ? error.message : String(error), secrets);
    return new EmailUpstreamError(undefined, undefined, typeof code === 'string' ? `${code}: ${text}` : text, cause);
  }
  const status = error.code;
  const messages = (error.response?.body?.errors ?? [])
    .map((e) => (typeof e.message === 'string' ? e.message : ''))
    .filter((m) => m !== '');
  const detail = redactSecrets(messages.join('; '), secrets).slice(0, 500);
  if (status === 401 || status === 403) {
    return new EmailUpstreamError(
      status,
      undefined,
      `credentials refused by SendGrid (HTTP ${status}): check the API key`,
      cause,
    );
  }
  const kind = httpStatusClass(status);
  if (kind === 'failure' || kind === 'rate_limited') {
    const retryAfterMs = retryAfter(error.response?.headers ?? {}, now);
    const hint = retryAfterMs === undefined ? '' : `, retry after ${retryAfterMs} ms`;
    return new EmailUpstreamError(status, retryAfterMs, `HTTP ${status}${detail ? ` ${detail}` : ''}${hint}`, cause);
  }
  return new EmailRequestError(status, detail, cause);
}

/** Retry-After (seconds or a date), else SendGrid's documented X-RateLimit-Reset (epoch seconds). */
function retryAfter(headers: Record<string, unknown>, now: number): number | undefined {
  const fromHeader = parseRetryAfter(headers['retry-after'], now, MAX_TIMER_MS);
  if (fromHeader !== undefined) return fromHeader || undefined;
  const reset = Number(headers['x-ratelimit-reset']);
  if (!Number.isFinite(reset) || reset <= 0) return undefined;
  const ms = Math.ceil(reset * 1000 - now);
  return ms > 0 ? Math.min(ms, MAX_TIMER_MS) : undefined;
}
