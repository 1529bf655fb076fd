import type { BreakerConfig, BreakerRegistry, Logger } from '@gl-vcci/breaker-core';
import type { ClientStatus } from '@gl-vcci/breaker-core/client';
import type { Outbox, OutboxStats, Priority } from './outbox/outbox.js';

/** An attachment; `content` is a Buffer, or a string already base64-encoded. */
export interface EmailAttachment {
  filename: string;
  content: Buffer | string;
  type?: string;
  disposition?: 'attachment' | 'inline';
  contentId?: string;
}

export interface EmailMessage {
  /** One address or up to 1 000. */
  to: string | string[];
  cc?: string | string[];
  bcc?: string | string[];
  from: string;
  replyTo?: string;
  subject: string;
  /** At least one of `text` and `html`. */
  text?: string;
  html?: string;
  attachments?: EmailAttachment[];
  /** Drain order when queued (default `normal`). */
  priority?: Priority;
  /** The caller's idempotency key: a second send with the same id is not sent again (default: a new UUID). */
  id?: string;
}

/** SendGrid accepted the mail now (`source: 'live'`). */
export interface SentResult {
  status: 'sent';
  id: string;
  /** SendGrid's `x-message-id`. */
  messageId: string | undefined;
  source: 'live';
  /** True when this id had been sent before: nothing was sent this time. */
  duplicate?: true;
}

/** The mail is in the outbox, on disk, and will be sent when SendGrid takes it (`source: 'queued'`). */
export interface QueuedResult {
  status: 'queued';
  id: string;
  source: 'queued';
  /** True when this id was already queued (or dead-lettered): it was not queued twice. */
  duplicate?: true;
}

export type SendResult = SentResult | QueuedResult;

/** What one `processQueue()` did. */
export interface DrainReport {
  sent: number;
  /** Failed again, back in the queue for a later attempt. */
  retried: number;
  deadLettered: number;
  /** Why it stopped before the end: the circuit refused, the client closed, or the outbox failed (logged at error). */
  stopped: 'circuit_open' | 'closed' | 'queue_failed' | undefined;
}

export type EmailBreakerOptions = Partial<Omit<BreakerConfig, 'name' | 'classify'>>;

export interface EmailQueueOptions {
  /** Queue mail SendGrid cannot take now (default: config `queue_enabled`, else true). */
  enabled?: boolean;
  /** The outbox folder (default: config `queue_dir`, else `./data/email_queue`). Ignored with `outbox`. */
  dir?: string;
  /** Attempts before a message is dead-lettered (default: config `max_attempts`, else 10). */
  maxAttempts?: number;
  /** First backoff, doubled per attempt (default 30 000 ms). */
  baseDelayMs?: number;
  /** Cap on the backoff; a longer Retry-After still wins (default 3 600 000 ms). */
  maxDelayMs?: number;
  /** How long a claim holds before another drainer may send the message (default: config `claim_lease`, else 600 000 ms). */
  leaseMs?: number;
  /** Drains this often (default: config `drain_interval`, else 300 000 ms); 0: only when asked or on recovery. */
  drainIntervalMs?: number;
  /** Messages sent at once while draining (default 4). */
  concurrency?: number;
}

export interface EmailClientOptions {
  /** breaker-core's registry: the `email_service.sendgrid` circuit, its settings, metrics, logger and clock. */
  registry: BreakerRegistry;
  logger?: Logger;
  sendgrid: {
    /** SendGrid API key; never logged, never in an error. */
    apiKey: string;
    /** Default https://api.sendgrid.com/ (a simulator or a regional host otherwise). */
    baseUrl?: string;
  };
  /** Where mail waits (default: a FolderOutbox in the queue folder). */
  outbox?: Outbox;
  queue?: EmailQueueOptions;
  breaker?: EmailBreakerOptions;
}

export interface EmailClientStatus extends ClientStatus {
  queue: { enabled: boolean; dir: string | undefined };
}

export interface EmailClient {
  send(message: EmailMessage): Promise<SendResult>;
  /** Sends what is due in the queue, high priority first; stops when the circuit refuses. */
  processQueue(): Promise<DrainReport>;
  /** Puts every dead letter back in the queue with its attempts reset; returns how many. */
  requeueDeadLetters(): Promise<number>;
  /** Depth by priority, oldest message, dead letters. */
  queueStats(): Promise<OutboxStats>;
  status(): EmailClientStatus;
  /** Stops the drain timer, refuses new sends, abandons sends in flight (their mail stays queued). */
  close(): Promise<void>;
}
