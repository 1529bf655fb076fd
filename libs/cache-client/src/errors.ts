import { BreakerCoreError, errorMessage } from '@gl-vcci/breaker-core';

/**
 * Base of the errors this client raises itself at run time: a stable `code` to branch on, the
 * original as `cause`. Invalid options are breaker-core's ConfigError.
 */
export abstract class CacheError extends BreakerCoreError {}

/** A call was given a bad key, TTL or loader; the message names the method and the argument. */
export class CacheArgumentError extends CacheError {
  readonly code = 'CACHE_INVALID_ARGUMENT';
}

/** The value has no JSON form (a BigInt, a cycle, `undefined`, a function…); nothing was stored. */
export class CacheSerializationError extends CacheError {
  readonly code = 'CACHE_VALUE_NOT_SERIALIZABLE';
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`Cache value for key "${key}" cannot be stored as JSON: ${errorMessage(cause)}`, { cause });
  }
}

/** What Redis holds under the key is not JSON (written by something else than this client). */
export class CacheDecodeError extends CacheError {
  readonly code = 'CACHE_VALUE_NOT_JSON';
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`Cache value for key "${key}" is not JSON: ${errorMessage(cause)}`, { cause });
  }
}

/**
 * Redis refused the command as the caller's mistake (WRONGTYPE, ERR …): it does not count against
 * the circuit and no fallback hides it. `cause` is node-redis' ErrorReply.
 */
export class CacheCommandError extends CacheError {
  readonly code = 'CACHE_COMMAND_REJECTED';
  constructor(
    readonly key: string,
    readonly command: string,
    cause: unknown,
  ) {
    super(`Redis refused ${command} on key "${key}": ${errorMessage(cause)}`, { cause });
  }
}

/** The client was closed. */
export class CacheClosedError extends CacheError {
  readonly code = 'CACHE_CLOSED';
  constructor() {
    super('The cache client is closed');
  }
}
