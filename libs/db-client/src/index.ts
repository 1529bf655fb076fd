export { classifyPgError } from './classify.js';
export { createDbClient } from './client.js';
export {
  DbClosedError,
  DbError,
  DbFailoverError,
  DbQueryError,
  DbSessionBrokenError,
  DbTransactionAbortedError,
} from './errors.js';
export {
  CONNECTION_ERRORS_METRIC,
  POOL_CONNECTIONS_METRIC,
  QUERY_DURATION_METRIC,
  type QueryOutcome,
} from './metrics.js';
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
