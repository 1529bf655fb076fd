import { errorMessage } from '@gl-vcci/breaker-core';

/** What a log line says about an error: its class, message and code, nothing it carries. */
export interface LoggedError {
  type: string;
  message: string;
  code?: string | number;
}

/**
 * An error as a plain object for the `error` field of a log line. Not under `err`: a logger made
 * by breaker-core's createLogger turns an Error into a plain object before pino's `err`
 * serializer runs, which then names its type "Object". Only the class name, the message and a
 * code are kept, so no connection option (the URL and its password) can ride along.
 */
export function loggedError(error: unknown): LoggedError {
  if (typeof error !== 'object' || error === null) return { type: typeof error, message: errorMessage(error) };
  const ctor = (error as { constructor?: { name?: unknown } }).constructor;
  const className =
    typeof ctor?.name === 'string' && ctor.name !== '' && ctor.name !== 'Object' ? ctor.name : undefined;
  const name = (error as { name?: unknown }).name;
  const type = className ?? (typeof name === 'string' && name !== '' ? name : 'Error');
  const code = (error as { code?: unknown }).code;
  const out: LoggedError = { type, message: errorMessage(error) };
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  return out;
}
