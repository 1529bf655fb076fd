import type { DbClient } from '@gl-vcci/db-client';
import type { EmailClient } from '@gl-vcci/email-client';
import type { FactorClient } from '@gl-vcci/factor-client';
import { SPEND_UNIT, spendActivity, USD_PER } from '../catalog.js';
import type { ServedTally } from '../served.js';

export interface ReportRequest {
  to: string;
  /** Idempotency key: the same id is e-mailed once (default: a new one per report). */
  id?: string;
}

export interface SupplierLine {
  system: string;
  supplier: string;
  category: string;
  spendUsd: number;
  emissionsKg: number;
  factorSource: string;
}

export interface ReportResult {
  id: string;
  status: 'sent' | 'queued';
  duplicate: boolean;
  suppliers: number;
  totalKg: number;
  byCategory: Record<string, number>;
  /** Where each spend factor came from. */
  factors: Record<string, string>;
}

/**
 * An emissions summary per supplier and spend category (spend × EPA spend-based factor), e-mailed
 * through email-client: sent now, or queued on disk while SendGrid is down and sent on recovery.
 */
export class ReportingAgent {
  #seq = 0;

  constructor(
    private readonly deps: {
      db: DbClient;
      factors: FactorClient;
      email: EmailClient;
      served: ServedTally;
      tables: { suppliers: string; lines: string };
      runId: string;
      from: string;
    },
  ) {}

  async summarize(
    options: { signal?: AbortSignal } = {},
  ): Promise<{ lines: SupplierLine[]; factors: Record<string, string> }> {
    const { db, factors, served, tables } = this.deps;
    const { rows } = await db.query<{
      system: string;
      name: string;
      category: string;
      currency: string;
      spend: string;
    }>(
      `SELECT s.system, s.name, s.category, l.currency, sum(l.amount)::text AS spend
         FROM ${tables.suppliers} s JOIN ${tables.lines} l ON l.system = s.system AND l.supplier_id = s.id
        GROUP BY s.system, s.name, s.category, l.currency ORDER BY s.system, s.name`,
      [],
      { name: 'demo.report.spend', readOnly: true, ...(options.signal ? { signal: options.signal } : {}) },
    );
    const spend = new Map<string, SupplierLine>();
    for (const r of rows) {
      const key = `${r.system}\u0000${r.name}`;
      const line = spend.get(key) ?? {
        system: r.system,
        supplier: r.name,
        category: r.category,
        spendUsd: 0,
        emissionsKg: 0,
        factorSource: '',
      };
      line.spendUsd += Number(r.spend) * (USD_PER[r.currency] ?? 1);
      spend.set(key, line);
    }
    const factorOf = new Map<string, { value: number; label: string }>();
    for (const category of new Set([...spend.values()].map((l) => l.category))) {
      if (category === 'unclassified') continue;
      const f = await factors.getFactor(
        { source: 'epa', activity: spendActivity(category), region: 'US', unit: SPEND_UNIT },
        options.signal ? { signal: options.signal } : {},
      );
      served.record('factor_broker.epa', f.source);
      factorOf.set(category, { value: f.value, label: `${f.factorSource} (${f.source}, ${f.quality})` });
    }
    const lines = [...spend.values()].map((l) => {
      const f = factorOf.get(l.category);
      return {
        ...l,
        spendUsd: Math.round(l.spendUsd * 100) / 100,
        emissionsKg: f ? Math.round(l.spendUsd * f.value * 10) / 10 : 0,
        factorSource: f?.label ?? 'no factor (unclassified)',
      };
    });
    return { lines, factors: Object.fromEntries([...factorOf].map(([c, f]) => [c, f.label])) };
  }

  async send(request: ReportRequest, options: { signal?: AbortSignal } = {}): Promise<ReportResult> {
    const { lines, factors } = await this.summarize(options);
    const byCategory: Record<string, number> = {};
    for (const l of lines)
      byCategory[l.category] = Math.round(((byCategory[l.category] ?? 0) + l.emissionsKg) * 10) / 10;
    const totalKg = Math.round(lines.reduce((sum, l) => sum + l.emissionsKg, 0) * 10) / 10;
    const id = request.id ?? `report-${this.deps.runId}-${++this.#seq}`;
    const text = [
      `Scope 3 purchased goods and services: ${lines.length} suppliers, ${totalKg} kg CO2e (spend-based).`,
      '',
      ...Object.entries(byCategory).map(([c, kg]) => `${c.padEnd(14)} ${kg.toFixed(1).padStart(12)} kg CO2e`),
      '',
      ...lines.map(
        (l) =>
          `${l.system.padEnd(8)} ${l.supplier.padEnd(36)} ${l.category.padEnd(12)} ${l.spendUsd.toFixed(2).padStart(12)} USD ${l.emissionsKg.toFixed(1).padStart(10)} kg`,
      ),
      '',
      'Factors:',
      ...Object.entries(factors).map(([c, label]) => `  ${c}: ${label}`),
    ].join('\n');
    const result = await this.deps.email.send({
      id,
      to: request.to,
      from: this.deps.from,
      subject: `Scope 3 emissions summary ${id}`,
      text,
      priority: 'normal',
    });
    this.deps.served.record('email_service.sendgrid', result.source);
    return {
      id,
      status: result.status,
      duplicate: 'duplicate' in result ? Boolean(result.duplicate) : false,
      suppliers: lines.length,
      totalKg,
      byCategory,
      factors,
    };
  }
}
