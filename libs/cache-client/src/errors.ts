import { BreakerCoreError, errorMessage, type Issue } from '@gl-vcci/breaker-core';
import { codeGuard, detachCause } from '@gl-vcci/breaker-core/client';

/**
 * Base of the errors this client raises at run time: a stable `code` to branch on (through the
 * `isCache…Error` guards, which hold across two copies of this package), the original as `cause`.
 * Invalid options are breaker-core's ConfigError. No error holds the Redis URL or a password.
 */
export abstract class CacheError extends BreakerCoreError {}

/** A call was given a bad key, TTL or loader; the message and `issues` name the method and the argument. Nothing was sent. */
export class CacheArgumentError extends CacheError {
  readonly code = 'CACHE_INVALID_ARGUMENT';
  constructor(
    message: string,
    readonly issues: readonly Issue[],
  ) {
    super(message);
  }
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
 * Redis refused the command as the caller's mistake (WRONGTYPE: the key holds a list, a hash…,
 * not this client's JSON; ERR …): it does not count against the circuit and no fallback hides it.
 * `cause` is node-redis' ErrorReply, detached.
 */
export class CacheRequestError extends CacheError {
  readonly code = 'CACHE_REQUEST_REJECTED';
  constructor(
    readonly key: string,
    readonly command: string,
    cause: unknown,
  ) {
    super(`Redis refused ${command} on key "${key}": ${errorMessage(cause)}`, { cause: detachCause(cause) });
  }
}

/** The client was closed. */
export class CacheClosedError extends CacheError {
  readonly code = 'CACHE_CLOSED';
  constructor() {
    super('The cache client is closed');
  }
}

// Guards by `code`, not instanceof: they hold across two copies of this package in one application.
export const isCacheArgumentError = codeGuard<CacheArgumentError>('CACHE_INVALID_ARGUMENT');
export const isCacheSerializationError = codeGuard<CacheSerializationError>('CACHE_VALUE_NOT_SERIALIZABLE');
export const isCacheDecodeError = codeGuard<CacheDecodeError>('CACHE_VALUE_NOT_JSON');
export const isCacheRequestError = codeGuard<CacheRequestError>('CACHE_REQUEST_REJECTED');
export const isCacheClosedError = codeGuard<CacheClosedError>('CACHE_CLOSED');
export const isCacheError = codeGuard<CacheError>(
  'CACHE_INVALID_ARGUMENT',
  'CACHE_VALUE_NOT_SERIALIZABLE',
  'CACHE_VALUE_NOT_JSON',
  'CACHE_REQUEST_REJECTED',
  'CACHE_CLOSED',
);
