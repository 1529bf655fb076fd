import type { Logger } from '@gl-vcci/breaker-core';
import type { CacheClient } from '@gl-vcci/cache-client';
import type { DbClient } from '@gl-vcci/db-client';
import type { ErpClient, ErpSystem, PurchaseOrderLine, Supplier } from '@gl-vcci/erp-client';
import type { LlmClient } from '@gl-vcci/llm-client';
import { CATEGORIES, type Category } from '../catalog.js';
import type { ServedTally } from '../served.js';

export interface IntakeRequest {
  system: ErpSystem;
  since?: string;
  until?: string;
}

export interface IntakeResult {
  system: ErpSystem;
  suppliers: { count: number; source: string; ageMs?: number };
  orderLines: { count: number; source: string; ageMs?: number };
  /** How each supplier's category was found: `cache` (cache-client), `live` / `failover` / `cache` (llm-client). */
  classified: Record<string, number>;
  categories: Partial<Record<Category, number>>;
  stored: { suppliers: number; orderLines: number };
}

const CHUNK = 12;
const SYSTEM_PROMPT = `You classify suppliers into spend categories for a Scope 3 inventory. Categories: ${CATEGORIES.join(', ')}.
Answer with one JSON object mapping each supplier name to its category, and nothing else.`;

/**
 * Suppliers and purchase-order spend from the ERP (erp-client), supplier spend categories from an
 * LLM (llm-client: cached, failing over from Anthropic to OpenAI), hot category lookups through
 * cache-client, everything stored in PostgreSQL (db-client).
 */
export class IntakeAgent {
  constructor(
    private readonly deps: {
      erp: ErpClient;
      llm: LlmClient;
      db: DbClient;
      cache: CacheClient;
      served: ServedTally;
      logger: Logger;
      tables: { suppliers: string; lines: string };
    },
  ) {}

  async init(): Promise<void> {
    const { db, tables } = this.deps;
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${tables.suppliers} (
        system text NOT NULL, id text NOT NULL, name text NOT NULL, active boolean NOT NULL, category text NOT NULL,
        PRIMARY KEY (system, id))`,
      [],
      { name: 'demo.suppliers.create' },
    );
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${tables.lines} (
        system text NOT NULL, order_id text NOT NULL, line_id text NOT NULL, supplier_id text NOT NULL,
        ordered_on date NOT NULL, amount numeric NOT NULL, currency text NOT NULL,
        PRIMARY KEY (system, order_id, line_id))`,
      [],
      { name: 'demo.lines.create' },
    );
  }

  async run(request: IntakeRequest, options: { signal?: AbortSignal } = {}): Promise<IntakeResult> {
    const { erp, served } = this.deps;
    const circuit = `erp_connectors.${request.system}`;
    const fetchOptions = options.signal ? { signal: options.signal } : {};
    const suppliers = await erp.fetchSuppliers(request.system, {}, fetchOptions);
    served.record(circuit, suppliers.source);
    const query = {
      ...(request.since ? { since: request.since } : {}),
      ...(request.until ? { until: request.until } : {}),
    };
    const lines = await erp.fetchPurchaseOrders(request.system, query, fetchOptions);
    served.record(circuit, lines.source);

    const { categories, classified } = await this.#classify(request.system, suppliers.value, options.signal);
    const stored = await this.#store(request.system, suppliers.value, lines.value, categories);
    const counts: Partial<Record<Category, number>> = {};
    for (const c of categories.values()) counts[c] = (counts[c] ?? 0) + 1;
    return {
      system: request.system,
      suppliers: { count: suppliers.value.length, source: suppliers.source, ...age(suppliers.ageMs) },
      orderLines: { count: lines.value.length, source: lines.source, ...age(lines.ageMs) },
      classified,
      categories: counts,
      stored,
    };
  }

  /** Category of each supplier name: cache-client first, then the LLM for the rest, in chunks. */
  async #classify(
    system: ErpSystem,
    suppliers: Supplier[],
    signal: AbortSignal | undefined,
  ): Promise<{ categories: Map<string, Category>; classified: Record<string, number> }> {
    const { cache, llm, served, logger } = this.deps;
    const categories = new Map<string, Category>();
    const classified: Record<string, number> = {};
    const names = [...new Set(suppliers.map((s) => s.name))];
    const hits = await cache.mget<Category>(
      names.map((n) => categoryKey(system, n)),
      signal ? { signal } : {},
    );
    const missing: string[] = [];
    names.forEach((name, i) => {
      const hit = hits[i];
      if (hit) {
        categories.set(name, hit.value);
        classified[`cache-client (${hit.tier})`] = (classified[`cache-client (${hit.tier})`] ?? 0) + 1;
        served.record('cache.redis', hit.source);
      } else missing.push(name);
    });
    for (let i = 0; i < missing.length; i += CHUNK) {
      const chunk = missing.slice(i, i + CHUNK);
      const result = await llm.generate(
        {
          system: SYSTEM_PROMPT,
          prompt: `Suppliers of ${system}:\n${chunk.map((n) => `- ${n}`).join('\n')}`,
          maxTokens: 2_000,
          temperature: 0,
        },
        signal ? { signal } : {},
      );
      served.record('llm_providers.claude', result.source);
      const label = result.source === 'cache' ? 'llm cache' : `llm ${result.provider}`;
      classified[label] = (classified[label] ?? 0) + chunk.length;
      const answer = parseAnswer(result.text);
      for (const name of chunk) {
        const category = answer[name];
        const known = (CATEGORIES as readonly string[]).includes(category ?? '')
          ? (category as Category)
          : 'unclassified';
        categories.set(name, known);
        cache.set(categoryKey(system, name), known, 3_600_000).catch((error: unknown) => {
          logger.warn({ err: error }, 'category not cached');
        });
      }
    }
    return { categories, classified };
  }

  async #store(
    system: ErpSystem,
    suppliers: Supplier[],
    lines: PurchaseOrderLine[],
    categories: Map<string, Category>,
  ): Promise<{ suppliers: number; orderLines: number }> {
    const { db, tables } = this.deps;
    await db.transaction(async (tx) => {
      for (const s of suppliers) {
        await tx.query(
          `INSERT INTO ${tables.suppliers} (system, id, name, active, category) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (system, id) DO UPDATE SET name = EXCLUDED.name, active = EXCLUDED.active, category = EXCLUDED.category`,
          [system, s.id, s.name, s.active, categories.get(s.name) ?? 'unclassified'],
          { name: 'demo.suppliers.upsert' },
        );
      }
      for (const l of lines) {
        await tx.query(
          `INSERT INTO ${tables.lines} (system, order_id, line_id, supplier_id, ordered_on, amount, currency)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (system, order_id, line_id) DO UPDATE SET amount = EXCLUDED.amount, currency = EXCLUDED.currency`,
          [system, l.orderId, l.lineId, l.supplierId, l.orderedOn, l.amount.value, l.amount.currency],
          { name: 'demo.lines.upsert' },
        );
      }
    });
    return { suppliers: suppliers.length, orderLines: lines.length };
  }
}

const categoryKey = (system: ErpSystem, name: string) => `supplier-category:${system}:${name}`;

function age(ageMs: number | undefined): { ageMs?: number } {
  return ageMs === undefined ? {} : { ageMs: Math.round(ageMs) };
}

function parseAnswer(text: string): Record<string, string> {
  try {
    const start = text.indexOf('{');
    const parsed: unknown = JSON.parse(text.slice(start, text.lastIndexOf('}') + 1));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}
