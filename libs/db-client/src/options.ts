import type { BreakerConfig, BreakerRegistry, Clock } from '@gl-vcci/breaker-core';
import type { PoolConfig } from 'pg';
import { z } from 'zod';
import { classifyPgError } from './classify.js';
import { type DbIssue, DbOptionsError, DbQueryError } from './errors.js';
import type { DbClientOptions, DbConnectionOptions, DbLogger, QueryOptions, TransactionOptions } from './types.js';

export const CIRCUIT_NAME = 'database.postgres';

// Defaults that keep a call from ever waiting on the database without bound.
export const DEFAULT_CONNECTION_TIMEOUT_MS = 2_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 3_000;
/** query_timeout = statement_timeout + this: the server cancels first, the client timer is the safety net. */
export const QUERY_TIMEOUT_MARGIN_MS = 500;
export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_PROBE_SQL = 'SELECT 1';
const MAX_TIMER_MS = 2_147_483_647;

const expected = (what: string) => ({ error: `expected ${what}` });
const positiveInt = (what = 'a positive integer') =>
  z.number(expected(what)).int(expected(what)).positive(expected(what)).max(MAX_TIMER_MS, expected(what));
const nonEmpty = (what = 'a non-empty string') => z.string(expected(what)).trim().min(1, expected(what));

const poolSchema = z.looseObject(
  {
    max: positiveInt().optional(),
    connectionTimeoutMillis: positiveInt('a positive number of ms (0 would wait forever)').optional(),
    statement_timeout: positiveInt('a positive number of ms (none would let a statement run forever)').optional(),
    query_timeout: positiveInt('a positive number of ms').optional(),
    idleTimeoutMillis: z.number(expected('a non-negative integer')).int().nonnegative().optional(),
  },
  expected('an object of pg Pool settings'),
);

const connectionSchema = z
  .strictObject({ connectionString: nonEmpty('a postgres:// URL').optional(), pool: poolSchema.optional() })
  .refine((c) => c.connectionString !== undefined || c.pool !== undefined, {
    error: 'expected connectionString or pool',
  });

const optionsSchema = z.strictObject({
  connectionString: nonEmpty('a postgres:// URL').optional(),
  pool: poolSchema.optional(),
  registry: z.custom<BreakerRegistry>(
    (r) => typeof (r as BreakerRegistry | null)?.breaker === 'function',
    expected('a BreakerRegistry from @gl-vcci/breaker-core'),
  ),
  logger: z
    .custom<DbLogger>((l) => typeof (l as DbLogger | null)?.child === 'function', expected('a pino logger'))
    .optional(),
  replica: connectionSchema.optional(),
  probe: z.union([z.boolean(), nonEmpty()], expected('true, false or the SQL of the probe')).optional(),
  breaker: z
    .looseObject({}, expected('an object of breaker settings'))
    .refine((b) => !('classify' in b) && !('name' in b), {
      error: 'expected breaker settings without name or classify (the client owns both)',
    })
    .optional(),
  clock: z
    .custom<Clock>(
      (c) => typeof (c as Clock | null)?.now === 'function',
      expected('a Clock (now, setTimeout, clearTimeout)'),
    )
    .optional(),
});

/** pg settings of one pool, with every timeout that keeps it from hanging filled in. */
export interface ResolvedPool {
  config: PoolConfig;
  connectionTimeoutMs: number;
  statementTimeoutMs: number;
  queryTimeoutMs: number;
}

export interface ResolvedOptions {
  registry: BreakerRegistry;
  logger: DbLogger;
  primary: ResolvedPool;
  replica: ResolvedPool | undefined;
  /** SQL of the half-open probe, when trials are synthetic. */
  probe: string | undefined;
  /** What the client passes to `registry.breaker`. */
  breaker: Omit<Partial<BreakerConfig>, 'name'>;
  clock: Clock | undefined;
}

/** Validates createDbClient's options once and settles every default; throws DbOptionsError naming each bad field. */
export function resolveOptions(input: DbClientOptions): ResolvedOptions {
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) throw new DbOptionsError(issuesOf(parsed.error, input));
  const o = parsed.data as DbClientOptions;
  const issues: DbIssue[] = [];
  if (o.connectionString === undefined && o.pool === undefined) {
    issues.push({ path: 'connectionString', message: 'expected connectionString or pool, got neither' });
  }
  const settings = o.registry.settings(CIRCUIT_NAME);
  const max = o.pool?.max ?? (settings.connection_pool_size as number | undefined) ?? DEFAULT_POOL_SIZE;
  const primary = resolvePool(o, max, '', issues);
  const replica = o.replica ? resolvePool(o.replica, o.replica.pool?.max ?? max, 'replica.', issues) : undefined;

  // The circuit's deadline must outlast pg's own timers, so that a slow statement ends as the
  // server's 57014 (connection kept) rather than as an abandoned call (connection destroyed).
  const existing = o.registry.get(CIRCUIT_NAME);
  const fromYaml = typeof settings.call_timeout === 'number' ? settings.call_timeout * 1000 : undefined;
  const [callTimeoutMs, deadlineSource] = existing
    ? [existing.config.callTimeoutMs, `the existing ${CIRCUIT_NAME} circuit's callTimeoutMs`]
    : o.breaker?.callTimeoutMs !== undefined
      ? [o.breaker.callTimeoutMs, 'breaker.callTimeoutMs']
      : [fromYaml, `${CIRCUIT_NAME}.call_timeout`];
  const breaker: ResolvedOptions['breaker'] = { classify: classifyPgError };
  if (callTimeoutMs === undefined) {
    breaker.callTimeoutMs = primary.connectionTimeoutMs + primary.queryTimeoutMs + QUERY_TIMEOUT_MARGIN_MS;
  } else {
    for (const [key, value] of [
      ['query_timeout', primary.queryTimeoutMs],
      ['connectionTimeoutMillis', primary.connectionTimeoutMs],
    ] as const) {
      if (value >= callTimeoutMs) {
        issues.push({
          path: `pool.${key}`,
          message: `expected less than the circuit's deadline (${callTimeoutMs} ms, from ${deadlineSource}), got ${value}`,
        });
      }
    }
  }
  // A database on which every statement hits statement_timeout is down in all but name: count
  // such calls as slow (57014 is classified success), unless the config says what slow is.
  if (o.breaker?.slowCallDurationMs === undefined && settings.slow_call_duration === undefined) {
    breaker.slowCallDurationMs = primary.statementTimeoutMs;
  }
  if (issues.length > 0) throw new DbOptionsError(issues);

  return {
    registry: o.registry,
    logger: o.logger ?? o.registry.logger,
    primary,
    replica,
    probe: o.probe === true ? DEFAULT_PROBE_SQL : typeof o.probe === 'string' ? o.probe : undefined,
    breaker: { ...breaker, ...o.breaker },
    clock: o.clock,
  };
}

function resolvePool(c: DbConnectionOptions, max: number, prefix: string, issues: DbIssue[]): ResolvedPool {
  const pool = c.pool ?? {};
  const connectionTimeoutMs = pool.connectionTimeoutMillis ?? DEFAULT_CONNECTION_TIMEOUT_MS;
  const statementTimeoutMs = (pool.statement_timeout || undefined) ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const queryTimeoutMs = pool.query_timeout ?? statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS;
  if (queryTimeoutMs <= statementTimeoutMs) {
    issues.push({
      path: `${prefix}pool.query_timeout`,
      message: `expected more than statement_timeout (${statementTimeoutMs} ms) so the server cancels first, got ${queryTimeoutMs}`,
    });
  }
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

const queryOptionsSchema = z.strictObject(
  {
    signal: z.instanceof(AbortSignal, expected('an AbortSignal')).optional(),
    timeoutMs: positiveInt('a positive integer number of ms').optional(),
    name: z
      .string(expected('a metric label'))
      .regex(/^[A-Za-z_][\w.:-]{0,99}$/, expected('a label of letters, digits, _ . : - (at most 100), never SQL'))
      .optional(),
    readOnly: z.boolean(expected('true or false')).optional(),
  },
  expected('an object of query options'),
);
const sessionOptionsSchema = queryOptionsSchema.pick({ signal: true, name: true });
const transactionOptionsSchema = queryOptionsSchema.pick({ signal: true });

/** Checks the options of `transaction` and `withClient`; throws DbQueryError. */
export function checkSessionOptions(options: unknown): TransactionOptions {
  if (options === undefined) return {};
  const result = transactionOptionsSchema.safeParse(options);
  if (!result.success) throw new DbQueryError(issuesOf(result.error, options, 'options'));
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
  const issues: DbIssue[] = [];
  if (typeof text !== 'string' || text.trim() === '') {
    issues.push({ path: 'text', message: `expected a non-empty SQL string, got ${describe(text)}` });
  }
  if (params !== undefined && !Array.isArray(params)) {
    issues.push({ path: 'params', message: `expected an array of parameters, got ${describe(params)}` });
  }
  let parsed: QueryOptions = {};
  if (options !== undefined) {
    const result = (kind === 'query' ? queryOptionsSchema : sessionOptionsSchema).safeParse(options);
    if (result.success) parsed = result.data;
    else issues.push(...issuesOf(result.error, options, 'options'));
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

/** zod issues as `path: expected X, got Y`, reading the offending value from `input`. */
function issuesOf(error: z.ZodError, input: unknown, prefix?: string): DbIssue[] {
  return error.issues.map((issue) => {
    const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return { path, message: `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` };
    }
    let value: unknown = input;
    for (const key of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
    return { path, message: `${issue.message}, got ${describe(value)}` };
  });
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return 'an object';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
