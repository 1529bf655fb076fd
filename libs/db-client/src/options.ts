import {
  anObject,
  type BreakerConfig,
  type BreakerRegistry,
  boolean,
  breakerOverridesSchema,
  describeValue,
  durationMs,
  type Issue,
  loggerSchema,
  nonEmptyString,
  nonNegativeInt,
  parseOrThrow,
  positiveInt,
  registrySchema,
  toIssues,
} from '@gl-vcci/breaker-core';
import type { PoolConfig } from 'pg';
import { z } from 'zod';
import { classifyPgError } from './classify.js';
import { DbQueryError } from './errors.js';
import type { DbClientOptions, DbConnectionOptions, DbLogger, QueryOptions, TransactionOptions } from './types.js';

export const CIRCUIT_NAME = 'database.postgres';
/** The replica's own circuit: settings from its block in the config file if any, else the global defaults. */
export const REPLICA_CIRCUIT_NAME = 'database.postgres_replica';
const CONTEXT = 'createDbClient';

// Defaults that keep a call from ever waiting on the database without bound.
export const DEFAULTS = {
  connectionTimeoutMs: 2_000,
  statementTimeoutMs: 3_000,
  poolSize: 10,
  probeSql: 'SELECT 1',
} as const;
/** query_timeout = statement_timeout + this: the server cancels first, the client timer is the safety net. */
export const QUERY_TIMEOUT_MARGIN_MS = 500;

// Not blank either: a URL of spaces (an unset variable padded by a template) is a mistake, not "the defaults".
const url = () =>
  z.string({ error: 'expected a postgres:// URL' }).regex(/\S/, { error: 'expected a postgres:// URL' });

const poolSchema = z.looseObject(
  {
    max: positiveInt().optional(),
    connectionTimeoutMillis: durationMs('a positive number of ms (0 would wait forever)').optional(),
    statement_timeout: durationMs('a positive number of ms (none would let a statement run forever)').optional(),
    query_timeout: durationMs('a positive number of ms').optional(),
    idleTimeoutMillis: nonNegativeInt().optional(),
  },
  anObject('an object of pg Pool settings'),
);

const connectionSchema = z.strictObject(
  { connectionString: url().optional(), pool: poolSchema.optional() },
  anObject('an object with connectionString or pool'),
);

const optionsSchema = z.strictObject(
  {
    connectionString: url().optional(),
    pool: poolSchema.optional(),
    registry: registrySchema,
    logger: loggerSchema.optional(),
    replica: connectionSchema.optional(),
    probe: z
      .union([boolean(), nonEmptyString('the SQL of the probe')], {
        error: 'expected true, false or the SQL of the probe',
      })
      .optional(),
    breaker: breakerOverridesSchema.optional(),
  },
  anObject('an object of options'),
);

/** pg settings of one pool, with every timeout that keeps it from hanging filled in. */
export interface ResolvedPool {
  config: PoolConfig;
  connectionTimeoutMs: number;
  statementTimeoutMs: number;
  queryTimeoutMs: number;
}

/** Options with every default applied, and the settings read from the config file. */
export interface ResolvedOptions {
  registry: BreakerRegistry;
  logger: DbLogger;
  primary: ResolvedPool;
  replica: ResolvedPool | undefined;
  /** SQL of the half-open probe, when trials are synthetic. */
  probe: string | undefined;
  /** What the client passes to `registry.breaker`: the caller's settings, the classifier and the defaults derived here. */
  breaker: Partial<Omit<BreakerConfig, 'name'>>;
}

/**
 * Validates createDbClient's options once (a ConfigError naming every bad field) and settles
 * every default, reading `connection_pool_size`, `call_timeout` and `slow_call_duration` from the
 * circuit's config block.
 */
export function resolveOptions(input: DbClientOptions): ResolvedOptions {
  const o = parseOrThrow(optionsSchema, input, CONTEXT) as DbClientOptions;
  const settings = o.registry.settings(CIRCUIT_NAME);
  const max = o.pool?.max ?? settings.connection_pool_size ?? DEFAULTS.poolSize;
  const primary = resolvePool(o, max);
  const replica = o.replica ? resolvePool(o.replica, o.replica.pool?.max ?? max) : undefined;

  // The circuit's deadline must outlast pg's own timers, so that a slow statement ends as the
  // server's 57014 (connection kept) rather than as an abandoned call (connection destroyed).
  const fromFile = settings.call_timeout === undefined ? undefined : settings.call_timeout * 1000;
  const deadline =
    o.breaker?.callTimeoutMs !== undefined
      ? { ms: o.breaker.callTimeoutMs, source: 'breaker.callTimeoutMs' }
      : fromFile !== undefined
        ? { ms: fromFile, source: `${CIRCUIT_NAME}.call_timeout` }
        : undefined;
  checkSettled(o, primary, replica, deadline);

  return {
    registry: o.registry,
    logger: o.logger ?? o.registry.logger,
    primary,
    replica,
    probe: o.probe === true ? DEFAULTS.probeSql : typeof o.probe === 'string' ? o.probe : undefined,
    breaker: {
      ...o.breaker,
      classify: classifyPgError,
      // No deadline given or in the file: one beyond the pools' own timeouts.
      callTimeoutMs:
        deadline === undefined
          ? Math.max(longestWait(primary), replica ? longestWait(replica) : 0)
          : o.breaker?.callTimeoutMs,
      // A database on which every statement hits statement_timeout is down in all but name: count
      // such calls as slow (57014 is classified success), unless the config says what slow is.
      slowCallDurationMs:
        o.breaker?.slowCallDurationMs ??
        (settings.slow_call_duration === undefined ? primary.statementTimeoutMs : undefined),
    },
  };
}

/** The longest a statement can take before pg itself gives up (pool wait or connect, then query_timeout), plus a margin. */
function longestWait(pool: ResolvedPool): number {
  return pool.connectionTimeoutMs + pool.queryTimeoutMs + QUERY_TIMEOUT_MARGIN_MS;
}

function resolvePool(c: DbConnectionOptions, max: number): ResolvedPool {
  const pool = c.pool ?? {};
  const connectionTimeoutMs = pool.connectionTimeoutMillis ?? DEFAULTS.connectionTimeoutMs;
  const statementTimeoutMs = (pool.statement_timeout || undefined) ?? DEFAULTS.statementTimeoutMs;
  const queryTimeoutMs = pool.query_timeout ?? statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS;
  const config: PoolConfig = {
    fallback_application_name: '@gl-vcci/db-client',
    ...pool,
    max,
    connectionTimeoutMillis: connectionTimeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: queryTimeoutMs,
  };
  if (c.connectionString !== undefined) config.connectionString = c.connectionString;
  return { config, connectionTimeoutMs, statementTimeoutMs, queryTimeoutMs };
}

/**
 * Relations between settled values (defaults applied), checked with parseOrThrow so they read like
 * every other option error and name the value in force: `pool.query_timeout: expected …, got 3500`.
 */
function checkSettled(
  o: DbClientOptions,
  primary: ResolvedPool,
  replica: ResolvedPool | undefined,
  deadline: { ms: number; source: string } | undefined,
): void {
  const settled = { connectionString: o.connectionString, pool: primary.config, replica: { pool: replica?.config } };
  const schema = z.unknown().superRefine((_, ctx) => {
    const report = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (o.connectionString === undefined && o.pool === undefined) {
      report(['connectionString'], 'expected connectionString or pool');
    }
    for (const [path, pool] of [
      [['pool'], primary],
      [['replica', 'pool'], replica],
    ] as const) {
      if (pool && pool.queryTimeoutMs <= pool.statementTimeoutMs) {
        report(
          [...path, 'query_timeout'],
          `expected more than statement_timeout (${pool.statementTimeoutMs} ms) so the server cancels first`,
        );
      }
    }
    if (deadline === undefined) return;
    // A statement may wait connectionTimeoutMillis for a connection and then run until
    // query_timeout: the sum, not each, must end before the deadline.
    for (const [path, pool] of [
      [['pool'], primary],
      [['replica', 'pool'], replica],
    ] as const) {
      if (pool && longestWait(pool) > deadline.ms) {
        report(
          [...path, 'query_timeout'],
          `expected connectionTimeoutMillis (${pool.connectionTimeoutMs} ms) + query_timeout + ${QUERY_TIMEOUT_MARGIN_MS} ms within the circuit's deadline (${deadline.ms} ms, from ${deadline.source})`,
        );
      }
    }
  });
  parseOrThrow(schema, settled, CONTEXT);
}

const queryOptionsSchema = z.strictObject(
  {
    signal: z.instanceof(AbortSignal, { error: 'expected an AbortSignal' }).optional(),
    timeoutMs: durationMs('a positive integer number of ms').optional(),
    name: z
      .string({ error: 'expected a metric label' })
      .regex(/^[A-Za-z_][\w.:-]{0,99}$/, {
        error: 'expected a label of letters, digits, _ . : - (at most 100), never SQL',
      })
      .optional(),
    readOnly: boolean().optional(),
  },
  anObject('an object of query options'),
);
const sessionOptionsSchema = queryOptionsSchema.pick({ signal: true, name: true });
const transactionOptionsSchema = queryOptionsSchema.pick({ signal: true });

/** Checks the options of `transaction` and `withClient`; throws DbQueryError. */
export function checkSessionOptions(options: unknown): TransactionOptions {
  if (options === undefined) return {};
  const result = transactionOptionsSchema.safeParse(options);
  if (!result.success) throw new DbQueryError(toIssues(result.error, options, ['options']));
  return result.data;
}

export interface QuerySpec {
  text: string;
  values: unknown[] | undefined;
  options: QueryOptions;
}

/** Checks a call's arguments before anything touches the pool or the circuit; throws DbQueryError. */
export function checkQuery(
  text: unknown,
  params: unknown,
  options: unknown,
  kind: 'query' | 'session',
  statementTimeoutMs: number,
): QuerySpec {
  const issues: Issue[] = [];
  if (typeof text !== 'string' || text.trim() === '') {
    issues.push({ path: 'text', message: `expected a non-empty SQL string, got ${describeValue(text)}` });
  }
  if (params !== undefined && !Array.isArray(params)) {
    issues.push({ path: 'params', message: `expected an array of parameters, got ${describeValue(params)}` });
  }
  let parsed: QueryOptions = {};
  if (options !== undefined) {
    const result = (kind === 'query' ? queryOptionsSchema : sessionOptionsSchema).safeParse(options);
    if (result.success) parsed = result.data;
    else issues.push(...toIssues(result.error, options, ['options']));
  }
  if (parsed.timeoutMs !== undefined && parsed.timeoutMs > statementTimeoutMs) {
    issues.push({
      path: 'options.timeoutMs',
      message: `expected at most the pool's statement_timeout (${statementTimeoutMs} ms), got ${parsed.timeoutMs}`,
    });
  }
  if (issues.length > 0) throw new DbQueryError(issues);
  return { text: text as string, values: params as unknown[] | undefined, options: parsed };
}
