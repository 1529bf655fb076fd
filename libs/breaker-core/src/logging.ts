import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { errorMessage } from './errors.js';
import type { StateChange } from './types.js';

/** Field names whose values never reach a log line, down to the fourth level of nesting (an axios error's `config.headers`). */
export const REDACTED_KEYS = [
  'authorization',
  'Authorization',
  'x-api-key',
  'X-Api-Key',
  'api_key',
  'apiKey',
  'password',
  'connectionString',
];

export const REDACT_PATHS = REDACTED_KEYS.flatMap((key) => {
  const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const join = (prefix: string) => (k.startsWith('[') ? `${prefix}${k}` : `${prefix}.${k}`);
  return [k.startsWith('[') ? k : key, join('*'), join('*.*'), join('*.*.*')];
});

/**
 * The pino logger the registry uses when none is given: JSON to stdout (or `destination`) at `GL_VCCI_LOG_LEVEL`
 * (default info), with secrets redacted. Pass `redact` paths of your own to add to the defaults.
 */
export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const extra = Array.isArray(options.redact) ? options.redact : (options.redact?.paths ?? []);
  const settings: LoggerOptions = {
    name: 'gl-vcci',
    level: process.env.GL_VCCI_LOG_LEVEL ?? 'info',
    ...options,
    redact: { paths: [...REDACT_PATHS, ...extra], censor: '[redacted]' },
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/** One line per transition: opening (and forced open) at warn with what caused it, the rest at info. */
export function logTransition(log: Logger, change: StateChange): void {
  const fields = { from: change.from, to: change.to, reason: change.reason };
  if (change.to === 'open') {
    log.warn(
      {
        ...fields,
        openForMs: (change.nextTrialAt ?? change.at) - change.at,
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
