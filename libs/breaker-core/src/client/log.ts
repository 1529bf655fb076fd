import { errorMessage } from '../errors.js';

/** What a log line says about an error: its class, message and diagnostic codes, nothing it carries. */
export interface LoggedError {
  type: string;
  message: string;
  code?: string | number;
  status?: number;
  sqlState?: string;
}

/**
 * An error as a plain object, for the `error` field of every client's log lines. Only the class
 * name, the message and plain codes are kept, never the error itself: an SDK error carries its
 * request (headers, connection options), and the application's own logger may not redact it.
 */
export function loggedError(error: unknown): LoggedError {
  if (typeof error !== 'object' || error === null) return { type: typeof error, message: errorMessage(error) };
  // The name first (a detached SDK error keeps its `AxiosError` there), else the class.
  const name = (error as { name?: unknown }).name;
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  const className = typeof ctor === 'string' && ctor !== '' && ctor !== 'Object' ? ctor : 'Error';
  const type = typeof name === 'string' && name !== '' && name !== 'Error' ? name : className;
  const { code, status, sqlState } = error as { code?: unknown; status?: unknown; sqlState?: unknown };
  const out: LoggedError = { type, message: errorMessage(error) };
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (typeof status === 'number') out.status = status;
  if (typeof sqlState === 'string') out.sqlState = sqlState;
  return out;
}
