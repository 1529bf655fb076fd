export { classifyEmailError } from './classify.js';
export { createEmailClient } from './client.js';
export {
  EmailArgumentError,
  EmailClosedError,
  EmailError,
  EmailQueueError,
  EmailRequestError,
  EmailUnavailableError,
  EmailUpstreamError,
  isEmailArgumentError,
  isEmailClosedError,
  isEmailError,
  isEmailQueueError,
  isEmailRequestError,
  isEmailUnavailableError,
  isEmailUpstreamError,
} from './errors.js';
export { MAX_MESSAGE_BYTES } from './message.js';
export {
  DEAD_LETTERED_METRIC,
  OLDEST_QUEUED_METRIC,
  QUEUE_DEPTH_METRIC,
  QUEUED_METRIC,
  SENT_METRIC,
} from './metrics.js';
export { FolderOutbox, type FolderOutboxOptions } from './outbox/folder.js';
export type {
  Claim,
  KnownMessage,
  MailAttachment,
  Outbox,
  OutboxMail,
  OutboxMessage,
  OutboxStats,
  Priority,
} from './outbox/outbox.js';
export {
  type OutboxMigration,
  POSTGRES_OUTBOX_MIGRATIONS,
  PostgresOutbox,
  type PostgresOutboxOptions,
  type Queryable,
} from './outbox/postgres.js';
export type {
  DrainReport,
  EmailAttachment,
  EmailBreakerOptions,
  EmailClient,
  EmailClientOptions,
  EmailClientStatus,
  EmailMessage,
  EmailQueueOptions,
  QueuedResult,
  SendResult,
  SentResult,
} from './types.js';
