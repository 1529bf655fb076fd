import type { Clock, Logger } from '@gl-vcci/breaker-core';
import {
  clockSchema,
  fnSchema,
  loggerSchema,
  nonEmptyString,
  parseOrThrow,
  positiveInt,
  urlSchema,
} from '@gl-vcci/breaker-core/client';
import type { Registry } from 'prom-client';
import { z } from 'zod';

/**
 * When a replica follows another's trip:
 * - `'immediate'`: as soon as one replica's circuit opens;
 * - `{ quorum, withinMs }`: once `quorum` replicas opened it within `withinMs` (the first trips
 *   stay local: one replica's bad network does not stop the others);
 * - `'never'`: this circuit is neither shared nor followed (still probes under the cluster's lease).
 */
export type AdoptPolicy = 'immediate' | 'never' | { quorum: number; withinMs: number };

export interface CircuitSyncOptions {
  adopt?: AdoptPolicy;
  /** How long the replica that won the probe holds it (default: the circuit's trial deadline + 1 s). */
  probeLeaseMs?: number;
}

export interface RedisStateSyncOptions {
  /** `redis://` or `rediss://` URL of the Redis every replica shares. */
  url: string;
  /** In front of every key and of the channel (default `gl-vcci:breaker:`); one per deployment. */
  keyPrefix?: string;
  /** This replica's name in Redis (default `<hostname>:<pid>:<random>`). */
  replicaId?: string;
  /** Default policy for every circuit (default `'immediate'`). */
  adopt?: AdoptPolicy;
  /** Per-circuit overrides, by circuit name. */
  circuits?: Record<string, CircuitSyncOptions>;
  /**
   * Whether the failure that tripped a circuit is this replica's own (saturation), not the
   * dependency's: such trips are not shared. Default: `BULKHEAD_FULL` and `DB_POOL_FULL` codes.
   */
  localFailure?: (error: unknown) => boolean;
  /** Default probe lease for every circuit (default: each circuit's trial deadline + 1 s). */
  probeLeaseMs?: number;
  /** Deadline of each Redis command, and of the first connection (default 1 000 ms). */
  commandTimeoutMs?: number;
  /** The breaker that guards the Redis connection: failures before it opens (default 3) and its open time (default 5 000 ms). */
  guard?: { failMax?: number; openDurationMs?: number };
  /** Parent logger (default: breaker-core's `createLogger()`); child `{ component: 'breaker-sync' }`. */
  logger?: Logger;
  /** Where the sync's metrics go (default: prom-client's global registry); `false`: none. */
  metrics?: { registry?: Registry } | false;
  /** The clock of the breakers it syncs (default: the system clock). */
  clock?: Clock;
}

const LOCAL_CODES = new Set(['BULKHEAD_FULL', 'DB_POOL_FULL']);

export function isLocalFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && LOCAL_CODES.has(code);
}

const policySchema = z.union([
  z.literal('immediate'),
  z.literal('never'),
  z.strictObject({ quorum: positiveInt(), withinMs: positiveInt() }),
]);

const circuitSchema = z.strictObject({ adopt: policySchema.optional(), probeLeaseMs: positiveInt().optional() });

const optionsSchema = z.strictObject({
  url: urlSchema(['redis:', 'rediss:']),
  keyPrefix: nonEmptyString().optional(),
  replicaId: nonEmptyString().optional(),
  adopt: policySchema.optional(),
  circuits: z.record(z.string(), circuitSchema).optional(),
  localFailure: fnSchema<(error: unknown) => boolean>().optional(),
  probeLeaseMs: positiveInt().optional(),
  commandTimeoutMs: positiveInt().optional(),
  guard: z.strictObject({ failMax: positiveInt().optional(), openDurationMs: positiveInt().optional() }).optional(),
  logger: loggerSchema.optional(),
  metrics: z.union([z.literal(false), z.strictObject({ registry: z.custom<Registry>().optional() })]).optional(),
  clock: clockSchema.optional(),
});

export function checkOptions(options: RedisStateSyncOptions): RedisStateSyncOptions {
  return parseOrThrow(optionsSchema, options, 'RedisStateSync options') as RedisStateSyncOptions;
}
