import { BreakerCoreError } from '../errors.js';

/** Fields of an SDK error worth keeping: what it was, never what it carried. */
const KEPT = ['code', 'errno', 'syscall', 'status', 'statusCode', 'type'] as const;
const MAX_DEPTH = 4;

/**
 * A copy of an SDK's error that is safe to keep as `cause`: its class name, message, stack and
 * plain diagnostic fields (`code`, `status`, `errno`, …), with the request config, headers, request
 * and response objects left behind, since those hold API keys and bodies (axios' `config.headers`,
 * the SDKs' `headers`). Its own cause is copied the same way. breaker-core's and the clients'
 * errors pass through unchanged: they are built safe.
 */
export function detachCause(error: unknown, depth = 0): unknown {
  if (error instanceof BreakerCoreError || error === null || typeof error !== 'object') return error;
  if (!(error instanceof Error)) return new Error(String(Object.prototype.toString.call(error)));
  const copy = new Error(error.message);
  Object.defineProperty(copy, 'name', { value: error.name, enumerable: false, configurable: true });
  if (error.stack) copy.stack = error.stack;
  const fields = copy as unknown as Record<string, unknown>;
  for (const key of KEPT) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === 'string' || typeof value === 'number') fields[key] = value;
  }
  if (error.cause !== undefined && depth < MAX_DEPTH) copy.cause = detachCause(error.cause, depth + 1);
  return copy;
}
