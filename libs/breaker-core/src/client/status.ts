import type { CircuitState } from '../types.js';

/**
 * Whether a failed call may still have taken effect upstream, on the errors where it matters
 * (a write, a send, a paid call):
 * - `not_sent`: the request never left the client (bad argument, open circuit, full pool or
 *   bulkhead, closed client): nothing happened upstream, a retry is safe;
 * - `unknown`: the request was sent and its answer never came (deadline, read timeout, abort or
 *   connection lost after sending): it may have been applied. Retry only what is idempotent
 *   (an idempotency key, `ON CONFLICT`, or read back first).
 */
export type CallOutcome = 'not_sent' | 'unknown';

/** What every client's `status()` returns (a client may add its own fields, such as pool counts). */
export interface ClientStatus {
  /** Each of the client's circuits by name, with its state. */
  circuits: Record<string, CircuitState>;
  /** True once `close()` has been called. */
  closed: boolean;
}
