export { classifyPgError } from './classify.js';
export { createDbClient } from './client.js';
export {
  DbArgumentError,
  DbClosedError,
  DbError,
  DbPoolFullError,
  DbRequestError,
  DbSessionBrokenError,
  DbTransactionAbortedError,
  DbUnavailableError,
  isDbArgumentError,
  isDbClosedError,
  isDbError,
  isDbPoolFullError,
  isDbRequestError,
  isDbSessionBrokenError,
  isDbTransactionAbortedError,
  isDbUnavailableError,
} from './errors.js';
export {
  CONNECTION_ERRORS_METRIC,
  POOL_CONNECTIONS_METRIC,
  QUERY_DURATION_METRIC,
  type QueryOutcome,
} from './metrics.js';
export type {
  CloseOptions,
  DbClient,
  DbClientOptions,
  DbConnectionOptions,
  DbPoolConfig,
  DbPoolStatus,
  DbResult,
  DbSession,
  DbSource,
  DbStatus,
  QueryOptions,
  SessionQueryOptions,
  TransactionOptions,
} from './types.js';
