import { BreakerCoreError } from '../errors.js';

/** Fields of an SDK error worth keeping: what it was, never what it carried. */
const KEPT = ['code', 'errno', 'syscall', 'status', 'statusCode', 'type'] as const;
const MAX_DEPTH = 4;

/**
 * A copy of an SDK's error that is safe to keep as `cause` (`secrets`: the client's own keys,
 * removed from the copied messages): its class name, message, stack and
 * plain diagnostic fields (`code`, `status`, `errno`, …), with the request config, headers, request
 * and response objects left behind, since those hold API keys and bodies (axios' `config.headers`,
 * the SDKs' `headers`). Its own cause is copied the same way. breaker-core's and the clients'
 * errors pass through unchanged: they are built safe.
 */
export function detachCause(error: unknown, secrets: readonly string[] = []): unknown {
  return detach(error, secrets, 0);
}

function detach(error: unknown, secrets: readonly string[], depth: number): unknown {
  if (error instanceof BreakerCoreError || error === null || typeof error !== 'object') return error;
  if (!(error instanceof Error)) return new Error(String(Object.prototype.toString.call(error)));
  const copy = new Error(redactSecrets(error.message, secrets));
  Object.defineProperty(copy, 'name', { value: error.name, enumerable: false, configurable: true });
  if (error.stack) copy.stack = redactSecrets(error.stack, secrets);
  const fields = copy as unknown as Record<string, unknown>;
  for (const key of KEPT) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === 'string' || typeof value === 'number') fields[key] = value;
  }
  if (error.cause !== undefined && depth < MAX_DEPTH) copy.cause = detach(error.cause, secrets, depth + 1);
  return copy;
}

const REDACTED = '[redacted]';

/**
 * `text` with every occurrence of the client's own secrets (API keys, header values, passwords)
 * replaced: an upstream's error body or message may echo the key it was sent, and it would then
 * travel in the client's error message. For `Bearer …` / `Basic …` values the credential alone
 * is matched too. Secrets shorter than 4 characters are not searched (they would match anything).
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    const credential = /^(?:Bearer|Basic|Token)\s+(.+)$/i.exec(secret)?.[1];
    for (const s of credential ? [secret, credential] : [secret]) {
      if (s.length >= 4) out = out.split(s).join(REDACTED);
    }
  }
  return out;
}
