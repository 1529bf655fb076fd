import type { BreakerRegistry, CircuitBreaker, Issue, Logger } from '@gl-vcci/breaker-core';
import {
  baseOptions,
  boolean,
  breakerOverridesSchema,
  durationMs,
  fnSchema,
  nonEmptyString,
  nonNegativeInt,
  parseOrThrow,
  positiveInt,
  secretSchema,
  setting,
  urlSchema,
} from '@gl-vcci/breaker-core/client';
import type { PoolConfig } from 'pg';
import { z } from 'zod';
import { classifyPgError } from './classify.js';
import type { DbClientOptions, DbConnectionOptions } from './types.js';

export const CIRCUIT_NAME = 'database.postgres';
/** The replica's own circuit: settings from its block in the config file if any, else the global defaults. */
export const REPLICA_CIRCUIT_NAME = 'database.postgres_replica';
const CONTEXT = 'createDbClient';

// Defaults that keep a call from ever waiting on the database without bound.
export const DEFAULTS = {
  connectionTimeoutMs: 2_000,
  statementTimeoutMs: 3_000,
  poolSize: 10,
  maxWaiting: 100,
  probeSql: 'SELECT 1',
  recoveryCheckMs: 1_000,
  closeTimeoutMs: 5_000,
} as const;
/** query_timeout = statement_timeout + this: the server cancels first, the client timer is the safety net. */
export const QUERY_TIMEOUT_MARGIN_MS = 500;

/** An object option whose value, when it is not one, is never shown: it may be a URL with a password. */
const anObjectHidden = (what: string) => ({
  error: (issue: { code: string; input?: unknown }) =>
    issue.code === 'invalid_type' ? `expected ${what}, got ${typeof issue.input} (not shown)` : undefined,
});

const url = () => urlSchema(['postgres:', 'postgresql:']);
const anything = z.unknown();

// Strict: a typo (`maxx`, `statement_timout`) is refused, not passed to pg, which ignores it.
const poolSchema = z.strictObject(
  {
    max: positiveInt().optional(),
    min: nonNegativeInt().optional(),
    maxWaiting: nonNegativeInt().optional(),
    connectionTimeoutMillis: durationMs('a positive number of ms (0 would wait forever)').optional(),
    statement_timeout: durationMs('a positive number of ms (none would let a statement run forever)').optional(),
    query_timeout: durationMs('a positive number of ms').optional(),
    lock_timeout: nonNegativeInt().optional(),
    idle_in_transaction_session_timeout: nonNegativeInt().optional(),
    idleTimeoutMillis: nonNegativeInt().optional(),
    maxUses: positiveInt().optional(),
    maxLifetimeSeconds: nonNegativeInt().optional(),
    allowExitOnIdle: boolean().optional(),
    keepAlive: boolean().optional(),
    keepAliveInitialDelayMillis: nonNegativeInt().optional(),
    host: nonEmptyString().optional(),
    port: positiveInt().optional(),
    database: nonEmptyString().optional(),
    user: nonEmptyString().optional(),
    password: z
      .union([secretSchema(), fnSchema()], { error: 'expected a non-empty string or a function, got <hidden>' })
      .optional(),
    ssl: z
      .union([z.boolean(), z.looseObject({})], { error: 'expected true, false or TLS options, got <hidden>' })
      .optional(),
    enableChannelBinding: boolean().optional(),
    application_name: nonEmptyString().optional(),
    fallback_application_name: nonEmptyString().optional(),
    options: nonEmptyString().optional(),
    client_encoding: nonEmptyString().optional(),
    types: anything.optional(),
  },
  anObjectHidden('an object of pg Pool settings'),
);

const connectionSchema = z.strictObject(
  { connectionString: url().optional(), pool: poolSchema.optional() },
  anObjectHidden('an object with connectionString or pool'),
);

const optionsSchema = z.strictObject(
  {
    ...baseOptions,
    connectionString: url().optional(),
    pool: poolSchema.optional(),
    replica: connectionSchema.optional(),
    probe: z
      .union([boolean(), nonEmptyString('the SQL of the probe')], {
        error: 'expected true, false or the SQL of the probe',
      })
      .optional(),
    recoveryCheckMs: z
      .union([durationMs(), z.literal(false)], { error: 'expected a positive number of ms or false' })
      .optional(),
    breaker: breakerOverridesSchema.optional(),
  },
  anObjectHidden('an object of options'),
);

/** pg settings of one pool, with every timeout that keeps it from hanging filled in. */
export interface ResolvedPool {
  role: 'primary' | 'replica';
  config: PoolConfig;
  size: number;
  maxWaiting: number;
  connectionTimeoutMs: number;
  statementTimeoutMs: number;
  queryTimeoutMs: number;
}

/** Options with every default applied, the file's settings read and the circuits built. */
export interface ResolvedOptions {
  registry: BreakerRegistry;
  logger: Logger;
  primary: ResolvedPool & { breaker: CircuitBreaker };
  replica: (ResolvedPool & { breaker: CircuitBreaker }) | undefined;
  /** SQL of the half-open probe, when trials are synthetic. */
  probe: string | undefined;
  /** SQL of the recovery check while the circuit is open. */
  recoverySql: string;
  recoveryCheckMs: number | undefined;
}

/**
 * Validates createDbClient's options once (a ConfigError naming every bad field), reads the
 * pool sizes from the file through `registry.settings`, builds both circuits with the client's
 * defaults under the file's settings, and checks the pools' timeouts against the deadlines in force.
 */
export function resolveOptions(input: DbClientOptions): ResolvedOptions {
  const o = parseOrThrow(optionsSchema, input, CONTEXT) as DbClientOptions;
  if (o.connectionString === undefined && o.pool === undefined) {
    throwIssues([{ path: 'connectionString', message: 'expected connectionString or pool, got nothing' }]);
  }
  const fields = { poolSize: setting.positiveInt('connection_pool_size') };
  const settings = o.registry.settings(CIRCUIT_NAME, fields);
  const replicaSettings = o.replica ? o.registry.settings(REPLICA_CIRCUIT_NAME, fields) : undefined;
  const size = o.pool?.max ?? settings.poolSize ?? DEFAULTS.poolSize;
  const primary = resolvePool(o, size, 'primary');
  const replica =
    o.replica && resolvePool(o.replica, o.replica.pool?.max ?? replicaSettings?.poolSize ?? size, 'replica');
  checkTimeouts(primary, replica);

  const overrides = o.breaker ?? {};
  // Client defaults, under the file's settings and the caller's: a deadline beyond the pool's own
  // timeouts, and calls counted slow from the statement timeout on (57014 is classified success,
  // so a database on which every statement times out would otherwise look healthy).
  const breakerOf = (name: string, pool: ResolvedPool) =>
    o.registry.breaker(name, overrides, {
      classify: classifyPgError,
      callTimeoutMs: longestWait(pool),
      slowCallDurationMs: pool.statementTimeoutMs,
    });
  const primaryBreaker = breakerOf(CIRCUIT_NAME, primary);
  const replicaBreaker = replica && breakerOf(REPLICA_CIRCUIT_NAME, replica);
  const overridden = overrides.callTimeoutMs !== undefined;
  const late = [
    deadlineIssue(primary, primaryBreaker, CIRCUIT_NAME, 'pool', overridden),
    replica &&
      replicaBreaker &&
      deadlineIssue(replica, replicaBreaker, REPLICA_CIRCUIT_NAME, 'replica.pool', overridden),
  ].filter((i) => i !== undefined);
  if (late.length > 0) throwIssues(late);
  const probe = o.probe === true ? DEFAULTS.probeSql : typeof o.probe === 'string' ? o.probe : undefined;
  return {
    registry: o.registry,
    logger: o.logger ?? o.registry.logger,
    primary: { ...primary, breaker: primaryBreaker },
    replica: replica && replicaBreaker && { ...replica, breaker: replicaBreaker },
    probe,
    recoverySql: probe ?? DEFAULTS.probeSql,
    recoveryCheckMs: o.recoveryCheckMs === false ? undefined : (o.recoveryCheckMs ?? DEFAULTS.recoveryCheckMs),
  };
}

/** The longest a statement can take once it holds a slot (connect, then query_timeout), plus a margin. */
function longestWait(pool: ResolvedPool): number {
  return pool.connectionTimeoutMs + pool.queryTimeoutMs + QUERY_TIMEOUT_MARGIN_MS;
}

function resolvePool(c: DbConnectionOptions, size: number, role: ResolvedPool['role']): ResolvedPool {
  const { maxWaiting = DEFAULTS.maxWaiting, ...pool } = c.pool ?? {};
  // Checked by the schema: numbers (false, which pg takes for "none", is refused).
  const given = pool as { statement_timeout?: number };
  const connectionTimeoutMs = pool.connectionTimeoutMillis ?? DEFAULTS.connectionTimeoutMs;
  const statementTimeoutMs = given.statement_timeout ?? DEFAULTS.statementTimeoutMs;
  const queryTimeoutMs = pool.query_timeout ?? statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS;
  const config: PoolConfig = {
    fallback_application_name: '@gl-vcci/db-client',
    ...(pool as PoolConfig),
    max: size,
    connectionTimeoutMillis: connectionTimeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: queryTimeoutMs,
  };
  if (c.connectionString !== undefined) config.connectionString = c.connectionString;
  return { role, config, size, maxWaiting, connectionTimeoutMs, statementTimeoutMs, queryTimeoutMs };
}

/** query_timeout must outlast statement_timeout, so that the server cancels first and the connection is kept. */
function checkTimeouts(primary: ResolvedPool, replica: ResolvedPool | undefined): void {
  const issue = (pool: ResolvedPool) =>
    pool.queryTimeoutMs <= pool.statementTimeoutMs
      ? `expected more than statement_timeout (${pool.statementTimeoutMs} ms) so the server cancels first, got ${pool.queryTimeoutMs}`
      : undefined;
  const issues = [
    { path: 'pool.query_timeout', message: issue(primary) },
    { path: 'replica.pool.query_timeout', message: replica && issue(replica) },
  ].filter((i): i is Issue => i.message !== undefined);
  if (issues.length > 0) throwIssues(issues);
}

/**
 * The circuit's deadline (resolved by breaker-core: client default, file, caller) must outlast
 * pg's own timers, so a slow statement ends as the server's 57014 (connection kept) rather than
 * as an abandoned call (connection destroyed). The sum counts: a statement may take
 * connectionTimeoutMillis to connect and then run until query_timeout.
 */
function deadlineIssue(
  pool: ResolvedPool,
  breaker: CircuitBreaker,
  circuit: string,
  path: string,
  overridden: boolean,
): Issue | undefined {
  const deadline = breaker.config.callTimeoutMs;
  if (deadline === undefined || longestWait(pool) <= deadline) return undefined;
  const source = overridden ? 'breaker.callTimeoutMs' : `${circuit}.call_timeout`;
  return {
    path: `${path}.query_timeout`,
    message: `expected connectionTimeoutMillis (${pool.connectionTimeoutMs} ms) + query_timeout + ${QUERY_TIMEOUT_MARGIN_MS} ms within the circuit's deadline (${deadline} ms, from ${source}), got ${pool.queryTimeoutMs}`,
  };
}

function throwIssues(issues: readonly Issue[]): never {
  const schema = z.unknown().superRefine((_, ctx) => {
    for (const { path, message } of issues) ctx.addIssue({ code: 'custom', path: path.split('.'), message });
  });
  return parseOrThrow(schema, undefined, CONTEXT) as never;
}
