import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { errorMessage } from './errors.js';
import type { StateChange } from './types.js';

/** Field names (any case, any depth) whose values never reach a log line. */
export const REDACTED_KEYS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'api_key',
  'apikey',
  'password',
  'connectionstring',
  'cookie',
  'set-cookie',
];

const SECRET = new Set(REDACTED_KEYS);
const CENSOR = '[redacted]';
/** Parts of an HTTP client's error that repeat the request, headers included (axios: config, request, response). */
const REQUEST_ECHOES = ['config', 'request', 'response'];

/**
 * The pino logger the registry uses when none is given: JSON to stdout (or `destination`) at
 * `GL_VCCI_LOG_LEVEL` (default info). Secrets are redacted by key at any depth and in any case
 * (pino's path-based `redact` cannot say "any depth" or "any case"), and an error's copies of
 * its request are dropped, since the raw request text carries its headers.
 */
export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const settings: LoggerOptions = {
    name: 'gl-vcci',
    level: process.env.GL_VCCI_LOG_LEVEL ?? 'info',
    ...options,
    // Runs before serializers: it turns every Error it meets (under any key) into a safe object.
    formatters: { ...options.formatters, log: (object) => redact(object, 0) as Record<string, unknown> },
    // pino's own `err` serializer would take that safe object for an error and call it "Object".
    serializers: { ...options.serializers, err: (value: unknown) => redact(value, 0) },
  };
  return destination ? pino(settings, destination) : pino(settings);
}

function serializeError(error: Error, depth: number): Record<string, unknown> {
  const out = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const key of REQUEST_ECHOES) delete out[key];
  const status = (error as { response?: { status?: unknown } }).response?.status;
  if (typeof status === 'number') out.status = status;
  return redact(out, depth) as Record<string, unknown>;
}

function redact(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > 8) return value;
  if (value instanceof Error) return serializeError(value, depth + 1);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET.has(key.toLowerCase()) ? CENSOR : redact(inner, depth + 1);
  }
  return out;
}

/** One line per transition: opening (and forced open) at warn with what caused it, the rest at info. */
export function logTransition(log: Logger, change: StateChange): void {
  const fields = { from: change.from, to: change.to, reason: change.reason };
  if (change.to === 'open') {
    log.warn(
      {
        ...fields,
        openForMs: Math.round((change.nextTrialAt ?? change.at) - change.at),
        lastError: errorMessage(change.lastError),
      },
      'circuit opened',
    );
  } else if (change.to === 'forced_open') {
    log.warn(fields, 'circuit forced open');
  } else {
    log.info(fields, `circuit ${change.to.replace('_', '-')}`);
  }
}
