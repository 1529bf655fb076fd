import { randomUUID } from 'node:crypto';
import type { Logger } from '@gl-vcci/breaker-core';
import type { DbClient } from '@gl-vcci/db-client';
import type { FactorClient, FactorResult } from '@gl-vcci/factor-client';
import { ACTIVITIES } from '../catalog.js';
import type { ServedTally } from '../served.js';

/** One activity record: how much of what, where. */
export interface ActivityRecord {
  activity: string;
  quantity: number;
  unit: string;
  region: string;
  year?: number;
}

export interface Calculation {
  id: string;
  record: ActivityRecord;
  /** kg of CO2e (CO2 only when the factor says `kg CO2/…`). */
  emissionsKg: number;
  factor: Pick<FactorResult, 'value' | 'unit' | 'provider' | 'factorSource' | 'source' | 'quality' | 'year' | 'ageMs'>;
  startedAt: number;
  latencyMs: number;
}

export class CalculationError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 422 | 503,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'CalculationError';
  }
}

/** The factor unit asked for an activity: the catalog's, else kg CO2e per the record's unit. */
export function factorUnitOf(record: ActivityRecord): string {
  const kind = ACTIVITIES[record.activity];
  if (kind && kind.unit === record.unit) return kind.factorUnit;
  return `kg CO2e/${record.unit}`;
}

/**
 * Durable log of calculations in PostgreSQL, written behind the answer: a calculation that cannot
 * be written now (the database is down, the circuit open) stays pending and is written when the
 * database is back (`INSERT … ON CONFLICT DO NOTHING` on its id, so a retry of a write whose
 * outcome was unknown never duplicates it). No calculation is lost to a database blip.
 */
export class CalculationLog {
  readonly #pending = new Map<string, Calculation>();
  #written = 0;
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: DbClient,
    readonly table: string,
    private readonly logger: Logger,
  ) {}

  async init(): Promise<void> {
    await this.db.query(
      `CREATE TABLE IF NOT EXISTS ${this.table} (
        id text PRIMARY KEY, activity text NOT NULL, region text NOT NULL, quantity double precision NOT NULL,
        unit text NOT NULL, emissions_kg double precision NOT NULL, factor_value double precision NOT NULL,
        factor_unit text NOT NULL, provider text NOT NULL, source text NOT NULL, quality text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())`,
      [],
      { name: 'demo.calculations.create' },
    );
    this.#timer = setInterval(() => void this.flush(), 500);
    this.#timer.unref();
  }

  get pending(): number {
    return this.#pending.size;
  }

  get written(): number {
    return this.#written;
  }

  /** Writes at once when it can; otherwise keeps it for the next flush. Never throws. */
  async add(calculation: Calculation): Promise<void> {
    this.#pending.set(calculation.id, calculation);
    await this.#write(calculation).catch(() => {});
  }

  async #write(c: Calculation): Promise<void> {
    if (!this.#pending.has(c.id)) return;
    try {
      await this.db.query(
        `INSERT INTO ${this.table} (id, activity, region, quantity, unit, emissions_kg, factor_value, factor_unit, provider, source, quality)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`,
        [
          c.id,
          c.record.activity,
          c.record.region,
          c.record.quantity,
          c.record.unit,
          c.emissionsKg,
          c.factor.value,
          c.factor.unit,
          c.factor.provider,
          c.factor.source,
          c.factor.quality,
        ],
        { name: 'demo.calculations.insert' },
      );
      if (this.#pending.delete(c.id)) this.#written++;
    } catch (error) {
      this.logger.debug({ err: error, id: c.id }, 'calculation kept pending: the database could not take it now');
      throw error;
    }
  }

  /** Writes what is pending, one at a time; stops at the first failure (the database is still out). */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    const run = async () => {
      for (const c of [...this.#pending.values()]) await this.#write(c);
    };
    // The .finally runs after this assignment, even when there is nothing to write.
    const flushing: Promise<void> = run()
      .catch(() => {}) // still down: the next flush tries again
      .finally(() => {
        if (this.#flushing === flushing) this.#flushing = undefined;
      });
    this.#flushing = flushing;
    return flushing;
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${this.table}`, [], {
      name: 'demo.calculations.count',
      readOnly: true,
    });
    return Number(rows[0]?.n ?? 0);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * Scope 3 emissions of activity records: quantity × the factor from factor-client, whose
 * provenance (`live`, `cache`, `stale`, `failover`, `default`) and quality travel with the result.
 * Factors come from ecoinvent (DESNZ is its failover in the shipped config).
 */
export class CalculatorAgent {
  constructor(
    private readonly factors: FactorClient,
    private readonly log: CalculationLog | undefined,
    private readonly served: ServedTally,
  ) {}

  async calculate(record: ActivityRecord, options: { signal?: AbortSignal } = {}): Promise<Calculation> {
    const startedAt = performance.now();
    const at = Date.now();
    let factor: FactorResult;
    try {
      factor = await this.factors.getFactor(
        {
          source: 'ecoinvent',
          activity: record.activity,
          region: record.region,
          unit: factorUnitOf(record),
          ...(record.year === undefined ? {} : { year: record.year }),
        },
        options.signal ? { signal: options.signal } : {},
      );
    } catch (error) {
      throw toCalculationError(error);
    }
    this.served.record('factor_broker.ecoinvent', factor.source);
    const calculation: Calculation = {
      id: randomUUID(),
      record,
      emissionsKg: round(record.quantity * factor.value),
      factor: {
        value: factor.value,
        unit: factor.unit,
        provider: factor.provider,
        factorSource: factor.factorSource,
        source: factor.source,
        quality: factor.quality,
        year: factor.year,
        ...(factor.ageMs === undefined ? {} : { ageMs: factor.ageMs }),
      },
      startedAt: at,
      latencyMs: performance.now() - startedAt,
    };
    if (this.log) void this.log.add(calculation);
    return calculation;
  }

  /** Many records, `concurrency` at a time; every record ends as a calculation or a failure with its reason. */
  async calculateBatch(
    records: ActivityRecord[],
    options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<{ calculations: Calculation[]; failures: Array<{ record: ActivityRecord; error: string }> }> {
    const calculations: Calculation[] = [];
    const failures: Array<{ record: ActivityRecord; error: string }> = [];
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < records.length) {
        const record = records[next++]!;
        try {
          calculations.push(await this.calculate(record));
        } catch (error) {
          failures.push({ record, error: error instanceof Error ? error.message : String(error) });
        }
        options.onProgress?.(++done, records.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
    return { calculations, failures };
  }
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function toCalculationError(error: unknown): CalculationError {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'FACTOR_INVALID_ARGUMENT') {
    const path = (error as { issues?: Array<{ path?: string }> }).issues?.[0]?.path;
    return new CalculationError(message, 400, path?.replace(/^query\./, ''));
  }
  if (code === 'FACTOR_NOT_FOUND' || code === 'FACTOR_MISMATCH' || code === 'FACTOR_REQUEST_REJECTED') {
    return new CalculationError(message, 422);
  }
  return new CalculationError(message, 503);
}
