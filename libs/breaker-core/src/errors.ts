import { formatMs } from './format.js';
import type { CircuitState } from './types.js';

/**
 * Base of every error raised by breaker-core and the clients (each client's own base extends it):
 * a stable `code` to branch on, the original as `cause`.
 */
export abstract class BreakerCoreError extends Error {
  abstract readonly code: string;
  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * The circuit refused the call. Built without stack frames: it is raised by the breaker, not by
 * the caller's code, and capturing a stack would cost ~5 µs on every rejection while a
 * dependency is down — exactly when callers are most numerous.
 */
export class CircuitOpenError extends BreakerCoreError {
  readonly code = 'CIRCUIT_OPEN';
  constructor(
    readonly circuitName: string,
    readonly state: CircuitState,
    /** Whole milliseconds (rounded up) until a trial call will be let through; undefined when no time is known (forced open, half-open busy). */
    readonly retryAfterMs: number | undefined,
    /** The failure that last counted against the circuit. */
    cause?: unknown,
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(
      state === 'half_open'
        ? `Circuit "${circuitName}" is half-open and its trial calls are all taken`
        : `Circuit "${circuitName}" is ${state === 'forced_open' ? 'forced open' : 'open'}`,
      cause === undefined ? undefined : { cause },
    );
    Error.stackTraceLimit = limit;
  }
}

/** The call outlived its deadline; the AbortSignal given to it was aborted with this error. */
export class TimeoutError extends BreakerCoreError {
  readonly code = 'CALL_TIMEOUT';
  constructor(
    readonly circuitName: string | undefined,
    readonly timeoutMs: number,
  ) {
    super(`${circuitName ? `Call through "${circuitName}"` : 'Call'} timed out after ${formatMs(timeoutMs)}`);
  }
}

/** The bulkhead had no free slot and its queue was full (or the wait for a slot timed out). */
export class BulkheadFullError extends BreakerCoreError {
  readonly code = 'BULKHEAD_FULL';
  constructor(
    readonly maxConcurrent: number,
    readonly maxQueue: number,
  ) {
    super(`Bulkhead full: ${maxConcurrent} calls running and ${maxQueue} queued`);
  }
}

/** Every step of a fallback chain failed; `cause` is the last step's error, `errors` all of them. */
export class FallbackExhaustedError extends BreakerCoreError {
  readonly code = 'FALLBACK_EXHAUSTED';
  constructor(readonly errors: ReadonlyArray<{ source: string; upstream?: string; error: unknown }>) {
    const step = (e: (typeof errors)[number]) => (e.upstream === undefined ? e.source : `${e.source} ${e.upstream}`);
    super(`Every fallback step failed: ${errors.map((e) => `${step(e)} (${errorMessage(e.error)})`).join(', ')}`, {
      cause: errors.at(-1)?.error,
    });
  }
}

/** A configuration value is invalid; `path` names the key (e.g. `factor_broker.ecoinvent.fail_max`). */
export class ConfigError extends BreakerCoreError {
  readonly code = 'INVALID_CONFIG';
  constructor(
    message: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }> = [],
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/**
 * A message for any thrown value: an Error's message, or its class name when the message is
 * empty (node-redis' TimeoutError). Never throws itself (String() does, on objects without a prototype).
 */
export function errorMessage(error: unknown): string {
  try {
    return error instanceof Error ? error.message || error.constructor.name : String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

/**
 * A guard that recognises an error by its stable `code` rather than by `instanceof`, so it still
 * holds when an application ends up with two copies of a package (as cockatiel's
 * `isBrokenCircuitError` does). Pass every code of the class and of its subclasses.
 */
export function codeGuard<E extends Error>(...codes: string[]): (error: unknown) => error is E {
  const known = new Set(codes);
  return (error: unknown): error is E =>
    typeof error === 'object' && error !== null && known.has((error as { code?: unknown }).code as string);
}

// Guards by `code`, not instanceof: they hold across two copies of breaker-core in one application.
export const isCircuitOpenError = codeGuard<CircuitOpenError>('CIRCUIT_OPEN');
export const isTimeoutError = codeGuard<TimeoutError>('CALL_TIMEOUT');
export const isBulkheadFullError = codeGuard<BulkheadFullError>('BULKHEAD_FULL');
export const isFallbackExhaustedError = codeGuard<FallbackExhaustedError>('FALLBACK_EXHAUSTED');
export const isConfigError = codeGuard<ConfigError>('INVALID_CONFIG');
