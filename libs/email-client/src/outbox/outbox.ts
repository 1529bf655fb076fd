/** Mail priority: the queue drains `high`, then `normal`, then `low`; first in, first out within one. */
export type Priority = 'high' | 'normal' | 'low';

export const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];

/** One attachment, its content base64-encoded (as SendGrid takes it). */
export interface MailAttachment {
  filename: string;
  content: string;
  type?: string;
  disposition?: 'attachment' | 'inline';
  contentId?: string;
}

/** A mail as the outbox keeps it: validated, ready to hand to SendGrid. */
export interface OutboxMail {
  to: string[];
  cc?: string[];
  bcc?: string[];
  from: string;
  replyTo?: string;
  subject: string;
  text?: string;
  html?: string;
  attachments?: MailAttachment[];
}

/** A queued message with its delivery state. Times are the registry clock's milliseconds. */
export interface OutboxMessage {
  /** The caller's idempotency key, or one the client made; sent to SendGrid as `custom_args.outbox_id`. */
  id: string;
  priority: Priority;
  mail: OutboxMail;
  enqueuedAt: number;
  /** Send attempts that failed so far. */
  attempts: number;
  /** Not sent before this time (backoff, Retry-After). */
  nextAttemptAt: number;
  /** The last failure, as a message without the mail's content. */
  lastError?: string;
}

/** A message this process holds the lease of: it alone may send it until `leaseUntil`. */
export interface Claim {
  readonly message: OutboxMessage;
  readonly leaseUntil: number;
  /** True when the message was confirmed sent before a crash left it claimed: complete it, never send it again. */
  readonly alreadySent: boolean;
  /** The implementation's own reference to the claimed record. */
  readonly ref: string;
}

/** What the outbox knows about an id. */
export type KnownMessage = { state: 'queued' } | { state: 'dead' } | { state: 'sent'; messageId: string | undefined };

export interface OutboxStats {
  /** Messages waiting or being sent, by priority. */
  depth: Record<Priority, number>;
  /** When the oldest of them was queued (clock ms); undefined when none. */
  oldestEnqueuedAt: number | undefined;
  deadLetters: number;
}

/**
 * Where mail waits for SendGrid: durable, shared by every process that drains it, at-least-once.
 * The folder implementation is FolderOutbox; a PostgreSQL table can implement the same contract
 * (add = INSERT … ON CONFLICT DO NOTHING, claim = UPDATE … SKIP LOCKED with a lease column).
 *
 * Contract: a message returned by `add` is durable before `add` resolves; it leaves the outbox
 * only through `complete` (sent) or `discard` (refused as the caller's mistake); a claim whose
 * lease expires is offered again by `due`; ids are unique across every state, including sent
 * ones for `keepSentMs`.
 */
export interface Outbox {
  /**
   * Stores a new message durably, claimed by the caller until `leaseUntil` (it is about to be sent
   * live); `{ added: false, known }` when the id is already known, in any state.
   */
  add(
    message: OutboxMessage,
    leaseUntil: number,
  ): Promise<{ added: true; claim: Claim } | { added: false; known: KnownMessage }>;
  /** References of the messages to try now, in drain order: due pending ones and expired claims. */
  due(now: number): Promise<string[]>;
  /** Takes the lease of one message returned by `due`; undefined when another drainer took it first. */
  claim(ref: string, now: number, leaseUntil: number): Promise<Claim | undefined>;
  /** SendGrid accepted it: removes it, remembering the id as sent. */
  complete(claim: Claim, messageId: string | undefined, sentAt: number): Promise<void>;
  /** Back to the queue with its new attempt count, next attempt time and last error. */
  release(claim: Claim, update: Pick<OutboxMessage, 'attempts' | 'nextAttemptAt' | 'lastError'>): Promise<void>;
  /** Refused for good (the caller's mistake): removed, and its id forgotten. */
  discard(claim: Claim): Promise<void>;
  /** Out of attempts: moved to the dead letters with its last error. */
  deadLetter(claim: Claim, update: Pick<OutboxMessage, 'attempts' | 'lastError'>): Promise<void>;
  /** Every dead letter back in the queue with its attempts reset; returns how many. */
  requeueDeadLetters(now: number): Promise<number>;
  lookup(id: string): Promise<KnownMessage | undefined>;
  stats(): Promise<OutboxStats>;
  /** Forgets sent ids older than `keepSentMs`, and finishes what a crash left half-written. */
  maintain(now: number): Promise<void>;
}
