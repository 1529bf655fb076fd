import { detachCause } from '@gl-vcci/breaker-core/client';
import { classifyPgError, isCredentialsRefused, sqlStateOf } from './classify.js';
import { DbRequestError, isDbError } from './errors.js';

/**
 * What the client throws for an error of pg's: the server's refusal of the caller's statement
 * becomes DbRequestError (its SQLSTATE as `sqlState`); anything else (the network, the server
 * going away, a statement timeout) a detached copy keeping `name`, `message`, `code` (SQLSTATE or
 * Node's) and `severity`, so it classifies as the original did. Never pg's own object: pg-pool
 * hangs the client, and with it the connection parameters and password, on some of its errors.
 */
export function fromPg(error: unknown): unknown {
  if (isDbError(error) || typeof error !== 'object' || error === null) return error;
  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined && classifyPgError(error) === 'ignore' && !isCredentialsRefused(error)) {
    const e = error as Record<string, unknown>;
    const text = (key: string) => (typeof e[key] === 'string' ? (e[key] as string) : undefined);
    return new DbRequestError(text('message') ?? `SQLSTATE ${sqlState}`, {
      sqlState,
      detail: text('detail'),
      hint: text('hint'),
      constraint: text('constraint'),
      table: text('table'),
      column: text('column'),
    });
  }
  const copy = detachCause(error);
  const severity = (error as { severity?: unknown }).severity;
  if (copy instanceof Error && typeof severity === 'string') Object.assign(copy, { severity });
  return copy;
}
