export { classifyPgError } from './classify.js';
export { createDbClient } from './client.js';
export {
  DbClientError,
  DbClosedError,
  DbFailoverError,
  type DbIssue,
  DbOptionsError,
  DbQueryError,
  DbTransactionAbortedError,
} from './errors.js';
export type { QueryOutcome } from './metrics.js';
export type {
  DbClient,
  DbClientOptions,
  DbConnectionOptions,
  DbLogger,
  DbPoolConfig,
  DbResult,
  DbSession,
  DbSource,
  QueryOptions,
  SessionQueryOptions,
  TransactionOptions,
} from './types.js';
