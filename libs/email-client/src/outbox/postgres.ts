import { randomUUID } from 'node:crypto';
import type { Claim, KnownMessage, Outbox, OutboxMail, OutboxMessage, OutboxStats, Priority } from './outbox.js';

/**
 * What the PostgreSQL outbox needs of a connection: a `pg` Pool (8.x) has it. The package does
 * not depend on pg: the application brings its pool (and its pg), so installing email-client
 * alone brings in no PostgreSQL driver.
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>>; rowCount: number | null }>;
}

export interface PostgresOutboxOptions {
  /** A pg Pool (or anything with its `query`). The outbox never ends it: the application does. */
  pool: Queryable;
  /** The table, optionally schema-qualified (`mail.outbox`); lower-case identifiers (default `email_outbox`). */
  table?: string;
  /** How long a sent id is remembered, so a second send with it is not sent again (default 7 days). */
  keepSentMs?: number;
  /** Names this drainer in `claimed_by` (default `<pid>-<random>`). */
  owner?: string;
}

/** One migration: `sql(table)` is what `migrate()` runs for that version, in one transaction. */
export interface OutboxMigration {
  version: number;
  name: string;
  sql(table: string): string;
}

/**
 * The schema, as migrations the package ships: `outbox.migrate()` applies those not yet applied
 * (recorded in `<table>_migrations`), under an advisory lock, so replicas starting together
 * apply each once. A team with its own migration tool can take the SQL from here instead.
 */
export const POSTGRES_OUTBOX_MIGRATIONS: readonly OutboxMigration[] = [
  {
    version: 1,
    name: 'create the outbox table',
    sql: (t) => `
CREATE TABLE IF NOT EXISTS ${t} (
  id              text PRIMARY KEY,
  state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'dead')),
  priority        smallint NOT NULL CHECK (priority BETWEEN 0 AND 2),
  seq             bigserial NOT NULL,
  mail            jsonb,
  enqueued_at     double precision NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at double precision NOT NULL,
  last_error      text,
  claimed_by      text,
  lease_until     double precision,
  message_id      text,
  sent_at         double precision
);
CREATE INDEX IF NOT EXISTS ${indexName(t, 'due')} ON ${t} (priority, enqueued_at, seq) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS ${indexName(t, 'sent')} ON ${t} (sent_at) WHERE state = 'sent';`,
  },
];

const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };
const BY_RANK: Priority[] = ['high', 'normal', 'low'];
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,50}(\.[a-z_][a-z0-9_]{0,50})?$/;

/** A row is due: waiting and its time has come, or claimed by a drainer whose lease ran out. */
const DUE = `state = 'queued' AND ((lease_until IS NULL AND next_attempt_at <= $1) OR lease_until < $1)`;

/**
 * The outbox as a PostgreSQL table (see `POSTGRES_OUTBOX_MIGRATIONS`), for drainers on several
 * hosts. Claiming takes the next due row in drain order (priority, then age) with
 * `FOR UPDATE SKIP LOCKED`, so drainers never wait for each other nor take the same message; the
 * claim is a lease (`claimed_by`, `lease_until`): a drainer that dies leaves its messages to the
 * others once the lease runs out. Sending, completing and releasing are fenced by the claim.
 *
 * `due()` returns as many references as there are due messages, all meaning "the next one": a
 * claim takes whichever due message comes first for it, and once none is left the remaining
 * references of that `due()` answer undefined without a query.
 */
export class PostgresOutbox implements Outbox {
  readonly table: string;
  readonly #pool: Queryable;
  readonly #keepSentMs: number;
  readonly #owner: string;
  #claims = 0;
  #batches = 0;
  /** The `due()` batches whose claims found the queue empty. */
  readonly #exhausted = new Set<number>();

  constructor(options: PostgresOutboxOptions) {
    const table = options.table ?? 'email_outbox';
    if (!IDENTIFIER.test(table)) {
      throw new TypeError(
        `PostgresOutbox table: expected a lower-case identifier, optionally schema.table, got "${table}"`,
      );
    }
    this.table = table;
    this.#pool = options.pool;
    this.#keepSentMs = options.keepSentMs ?? 7 * 86_400_000;
    this.#owner = options.owner ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
  }

  /** Applies the migrations not yet applied; returns the versions it applied. */
  async migrate(): Promise<number[]> {
    const t = this.table;
    const log = `${t}_migrations`;
    const applied: number[] = [];
    for (const migration of POSTGRES_OUTBOX_MIGRATIONS) {
      // One statement list, one implicit transaction: the lock is held until it commits.
      const { rows } = await this.#pool.query(`SELECT to_regclass('${log}') AS found`);
      const logExists = rows[0]?.found !== null;
      if (logExists) {
        const done = await this.#pool.query(`SELECT 1 FROM ${log} WHERE version = $1`, [migration.version]);
        if (done.rowCount) continue;
      }
      const schema = t.includes('.') ? `CREATE SCHEMA IF NOT EXISTS ${t.slice(0, t.indexOf('.'))};` : '';
      const result = await this.#pool.query(`
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('${log}'));
${schema}
CREATE TABLE IF NOT EXISTS ${log} (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
${migration.sql(t)}
INSERT INTO ${log} (version, name) VALUES (${migration.version}, '${migration.name.replaceAll("'", "''")}') ON CONFLICT DO NOTHING;
COMMIT;`);
      const steps = Array.isArray(result) ? (result as Array<{ rowCount: number | null }>) : [];
      if (steps.at(-2)?.rowCount !== 0) applied.push(migration.version);
    }
    return applied;
  }

  async add(message: OutboxMessage, leaseUntil: number) {
    const token = this.#token();
    const { rowCount } = await this.#pool.query(
      `INSERT INTO ${this.table} (id, priority, mail, enqueued_at, attempts, next_attempt_at, last_error, claimed_by, lease_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
      [
        message.id,
        RANK[message.priority],
        JSON.stringify(message.mail),
        message.enqueuedAt,
        message.attempts,
        message.nextAttemptAt,
        message.lastError ?? null,
        token,
        leaseUntil,
      ],
    );
    if (rowCount === 1) {
      return {
        added: true as const,
        claim: { message, leaseUntil, alreadySent: false, ref: `${message.id}\0${token}` },
      };
    }
    return { added: false as const, known: (await this.lookup(message.id)) ?? { state: 'queued' as const } };
  }

  async due(now: number): Promise<string[]> {
    const { rows } = await this.#pool.query(`SELECT count(*)::int AS n FROM ${this.table} WHERE ${DUE}`, [now]);
    const batch = ++this.#batches;
    if (this.#exhausted.size > 100) this.#exhausted.clear();
    return Array.from({ length: Number(rows[0]?.n ?? 0) }, () => `next:${batch}`);
  }

  async claim(ref: string, now: number, leaseUntil: number): Promise<Claim | undefined> {
    const batch = Number(ref.slice('next:'.length));
    if (this.#exhausted.has(batch)) return undefined;
    const token = this.#token();
    const { rows } = await this.#pool.query(
      `UPDATE ${this.table} SET claimed_by = $2, lease_until = $3
       WHERE id = (SELECT id FROM ${this.table} WHERE ${DUE} ORDER BY priority, enqueued_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id, priority, mail, enqueued_at, attempts, next_attempt_at, last_error`,
      [now, token, leaseUntil],
    );
    const row = rows[0];
    if (!row) {
      this.#exhausted.add(batch);
      return undefined;
    }
    const message: OutboxMessage = {
      id: row.id as string,
      priority: BY_RANK[Number(row.priority)]!,
      mail: (typeof row.mail === 'string' ? JSON.parse(row.mail) : row.mail) as OutboxMail,
      enqueuedAt: Number(row.enqueued_at),
      attempts: Number(row.attempts),
      nextAttemptAt: Number(row.next_attempt_at),
      ...(row.last_error === null ? {} : { lastError: row.last_error as string }),
    };
    // Completing is one statement (sent and unclaimed at once): a claimed row is never already sent.
    return { message, leaseUntil, alreadySent: false, ref: `${message.id}\0${token}` };
  }

  async complete(claim: Claim, messageId: string | undefined, sentAt: number): Promise<void> {
    // Not fenced: SendGrid took it, whoever holds the claim now. A row already sent keeps its first message id.
    await this.#pool.query(
      `UPDATE ${this.table} SET
         message_id = CASE WHEN state = 'sent' THEN message_id ELSE $2 END,
         sent_at = CASE WHEN state = 'sent' THEN sent_at ELSE $3 END,
         state = 'sent', mail = NULL, claimed_by = NULL, lease_until = NULL, last_error = NULL
       WHERE id = $1`,
      [claim.message.id, messageId ?? null, sentAt],
    );
  }

  async release(claim: Claim, update: Pick<OutboxMessage, 'attempts' | 'nextAttemptAt' | 'lastError'>) {
    const [id, token] = split(claim.ref);
    await this.#pool.query(
      `UPDATE ${this.table} SET attempts = $3, next_attempt_at = $4, last_error = $5, claimed_by = NULL, lease_until = NULL
       WHERE id = $1 AND claimed_by = $2 AND state = 'queued'`,
      [id, token, update.attempts, update.nextAttemptAt, update.lastError ?? null],
    );
  }

  async discard(claim: Claim): Promise<void> {
    const [id, token] = split(claim.ref);
    await this.#pool.query(`DELETE FROM ${this.table} WHERE id = $1 AND claimed_by = $2`, [id, token]);
  }

  async deadLetter(claim: Claim, update: Pick<OutboxMessage, 'attempts' | 'lastError'>): Promise<void> {
    const [id, token] = split(claim.ref);
    await this.#pool.query(
      `UPDATE ${this.table} SET state = 'dead', attempts = $3, last_error = $4, claimed_by = NULL, lease_until = NULL
       WHERE id = $1 AND claimed_by = $2 AND state = 'queued'`,
      [id, token, update.attempts, update.lastError ?? null],
    );
  }

  async requeueDeadLetters(now: number): Promise<number> {
    const { rowCount } = await this.#pool.query(
      `UPDATE ${this.table} SET state = 'queued', attempts = 0, next_attempt_at = $1 WHERE state = 'dead'`,
      [now],
    );
    return rowCount ?? 0;
  }

  async lookup(id: string): Promise<KnownMessage | undefined> {
    const { rows } = await this.#pool.query(`SELECT state, message_id FROM ${this.table} WHERE id = $1`, [id]);
    const row = rows[0];
    if (!row) return undefined;
    if (row.state === 'sent') return { state: 'sent', messageId: (row.message_id as string | null) ?? undefined };
    return { state: row.state as 'queued' | 'dead' };
  }

  async stats(): Promise<OutboxStats> {
    const { rows } = await this.#pool.query(
      `SELECT state, priority, count(*)::int AS n, min(enqueued_at) AS oldest FROM ${this.table}
       WHERE state IN ('queued', 'dead') GROUP BY state, priority`,
    );
    const depth: Record<Priority, number> = { high: 0, normal: 0, low: 0 };
    let oldest: number | undefined;
    let deadLetters = 0;
    for (const row of rows) {
      if (row.state === 'dead') {
        deadLetters += Number(row.n);
        continue;
      }
      depth[BY_RANK[Number(row.priority)]!] += Number(row.n);
      const at = Number(row.oldest);
      if (oldest === undefined || at < oldest) oldest = at;
    }
    return { depth, oldestEnqueuedAt: oldest, deadLetters };
  }

  async maintain(now: number): Promise<void> {
    await this.#pool.query(`DELETE FROM ${this.table} WHERE state = 'sent' AND sent_at < $1`, [now - this.#keepSentMs]);
  }

  /** A claim's fencing token: this drainer and the claim's number. */
  #token(): string {
    return `${this.#owner}/${++this.#claims}`;
  }
}

function split(ref: string): [string, string] {
  const at = ref.lastIndexOf('\0');
  return [ref.slice(0, at), ref.slice(at + 1)];
}

function indexName(table: string, suffix: string): string {
  return `${table.slice(table.lastIndexOf('.') + 1)}_${suffix}`;
}
