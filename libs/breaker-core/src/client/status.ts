import type { CircuitState } from '../types.js';

/** What every client's `status()` returns (a client may add its own fields, such as pool counts). */
export interface ClientStatus {
  /** Each of the client's circuits by name, with its state. */
  circuits: Record<string, CircuitState>;
  /** True once `close()` has been called. */
  closed: boolean;
}
