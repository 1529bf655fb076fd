import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDirs, FILE_MODE, isCode, moveIfPresent, syncDir, writeSynced } from './durable.js';
import type { Claim, KnownMessage, Outbox, OutboxMessage, OutboxStats, Priority } from './outbox.js';

export interface FolderOutboxOptions {
  /** The queue folder (created 0700 with its subfolders). */
  dir: string;
  /** How long a sent id is remembered, so a second send with it is not sent again (default 7 days). */
  keepSentMs?: number;
  /** A temp file older than this (file time) was left by a crash, not a write in progress (default 60 s). */
  staleTempMs?: number;
}

const RANK: Record<Priority, string> = { high: '0', normal: '1', low: '2' };
const BY_RANK: Record<string, Priority> = { '0': 'high', '1': 'normal', '2': 'low' };
const SUBDIRS = ['pending', 'claimed', 'dead', 'keys', 'tmp'] as const;
const pad = (ms: number) => Math.max(0, Math.floor(ms)).toString().padStart(15, '0');

/**
 * The outbox as a folder, one JSON file (0600) per message, safe for several processes on one
 * host or a local file system (renames are atomic there; not on every network file system):
 *
 * - `pending/<rank>-<enqueuedAt>-<seq>-<key>~<nextAttemptAt>.json`: waiting; the name alone gives
 *   the drain order (priority, then age) and whether it is due.
 * - `claimed/<…>~<leaseUntil>.json`: being sent. Claiming is a rename, so of two drainers only one
 *   gets a message; a lease that expires (the drainer died) makes it due again.
 * - `dead/<…>.json`: out of attempts, with the last error; `requeueDeadLetters` puts them back.
 * - `keys/<key>`: one per id (sha-256 of it), created exclusively before the message appears, so
 *   an id is queued once; it says `sent` (with SendGrid's message id) once accepted.
 * - `tmp/`: files being written; every message is written and fsynced there, then renamed in, and
 *   the folder it lands in is fsynced.
 */
export class FolderOutbox implements Outbox {
  readonly dir: string;
  readonly #keepSentMs: number;
  readonly #staleTempMs: number;
  #ready: Promise<void> | undefined;
  #seq = 0;

  constructor(options: FolderOutboxOptions) {
    this.dir = options.dir;
    this.#keepSentMs = options.keepSentMs ?? 7 * 86_400_000;
    this.#staleTempMs = options.staleTempMs ?? 60_000;
  }

  async add(message: OutboxMessage, leaseUntil: number) {
    await this.#init();
    const key = keyOf(message.id);
    this.#seq = (this.#seq + 1) % 10_000;
    const base = `${RANK[message.priority]}-${pad(message.enqueuedAt)}-${this.#seq.toString().padStart(4, '0')}-${key}`;
    const tmp = this.#path('tmp', `${base}~${randomUUID()}.tmp`);
    await writeSynced(tmp, JSON.stringify(message));
    try {
      // The id's reservation: exclusive, so two processes adding one id queue it once.
      await writeFile(this.#path('keys', key), '{"state":"queued"}', { flag: 'wx', mode: FILE_MODE });
    } catch (error) {
      await unlink(tmp).catch(() => {});
      if (!isCode(error, 'EEXIST')) throw error;
      return { added: false as const, known: (await this.lookup(message.id)) ?? { state: 'queued' as const } };
    }
    const ref = `claimed/${base}~${pad(leaseUntil)}.json`;
    await rename(tmp, join(this.dir, ref));
    await syncDir(join(this.dir, 'claimed'));
    return { added: true as const, claim: { message, leaseUntil, alreadySent: false, ref } };
  }

  async due(now: number): Promise<string[]> {
    await this.#init();
    const [pending, claimed] = await Promise.all([this.#list('pending'), this.#list('claimed')]);
    const refs = [
      ...pending.filter((n) => stamp(n) <= now).map((n) => `pending/${n}`),
      ...claimed.filter((n) => stamp(n) < now).map((n) => `claimed/${n}`),
    ];
    return refs.sort((a, b) => compare(baseOf(a), baseOf(b)));
  }

  async claim(ref: string, _now: number, leaseUntil: number): Promise<Claim | undefined> {
    const target = `claimed/${baseOf(ref)}~${pad(leaseUntil)}.json`;
    if (!(await moveIfPresent(join(this.dir, ref), join(this.dir, target)))) return undefined;
    const message = JSON.parse(await readFile(join(this.dir, target), 'utf8')) as OutboxMessage;
    const known = await this.lookup(message.id);
    return { message, leaseUntil, alreadySent: known?.state === 'sent', ref: target };
  }

  async complete(claim: Claim, messageId: string | undefined, sentAt: number): Promise<void> {
    // Already recorded as sent (by a drainer that died before the removal): keep its message id.
    if (!claim.alreadySent) await this.#setKey(claim.message.id, { state: 'sent', messageId, sentAt });
    await unlink(join(this.dir, claim.ref)).catch((e: unknown) => {
      if (!isCode(e, 'ENOENT')) throw e;
    });
  }

  async release(claim: Claim, update: Pick<OutboxMessage, 'attempts' | 'nextAttemptAt' | 'lastError'>) {
    const message = { ...claim.message, ...update };
    await this.#rewrite(claim.ref, message);
    await rename(
      join(this.dir, claim.ref),
      this.#path('pending', `${baseOf(claim.ref)}~${pad(message.nextAttemptAt)}.json`),
    );
    await syncDir(join(this.dir, 'pending'));
  }

  async discard(claim: Claim): Promise<void> {
    await unlink(join(this.dir, claim.ref)).catch(() => {});
    await unlink(this.#path('keys', keyOf(claim.message.id))).catch(() => {});
  }

  async deadLetter(claim: Claim, update: Pick<OutboxMessage, 'attempts' | 'lastError'>): Promise<void> {
    await this.#rewrite(claim.ref, { ...claim.message, ...update });
    await rename(join(this.dir, claim.ref), this.#path('dead', `${baseOf(claim.ref)}.json`));
    await syncDir(join(this.dir, 'dead'));
    await this.#setKey(claim.message.id, { state: 'dead' });
  }

  async requeueDeadLetters(now: number): Promise<number> {
    await this.#init();
    let count = 0;
    for (const name of await this.#list('dead')) {
      const ref = `dead/${name}`;
      const message = JSON.parse(await readFile(join(this.dir, ref), 'utf8')) as OutboxMessage;
      await this.#rewrite(ref, { ...message, attempts: 0, nextAttemptAt: now });
      if (await moveIfPresent(join(this.dir, ref), this.#path('pending', `${baseOf(ref)}~${pad(now)}.json`))) {
        await this.#setKey(message.id, { state: 'queued' });
        count++;
      }
    }
    if (count > 0) await syncDir(join(this.dir, 'pending'));
    return count;
  }

  async lookup(id: string): Promise<KnownMessage | undefined> {
    await this.#init();
    let text: string;
    try {
      text = await readFile(this.#path('keys', keyOf(id)), 'utf8');
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw error;
    }
    const record = JSON.parse(text) as { state: KnownMessage['state']; messageId?: string };
    return record.state === 'sent' ? { state: 'sent', messageId: record.messageId } : { state: record.state };
  }

  async stats(): Promise<OutboxStats> {
    await this.#init();
    const [pending, claimed, dead] = await Promise.all(SUBDIRS.slice(0, 3).map((d) => this.#list(d)));
    const depth: Record<Priority, number> = { high: 0, normal: 0, low: 0 };
    let oldest: number | undefined;
    for (const name of [...pending!, ...claimed!]) {
      const priority = BY_RANK[name[0]!];
      if (priority) depth[priority]++;
      const enqueuedAt = Number(name.split('-')[1]);
      if (oldest === undefined || enqueuedAt < oldest) oldest = enqueuedAt;
    }
    return { depth, oldestEnqueuedAt: oldest, deadLetters: dead!.length };
  }

  async maintain(now: number): Promise<void> {
    await this.#init();
    const [pending, claimed, dead, temps] = await Promise.all(
      (['pending', 'claimed', 'dead', 'tmp'] as const).map((d) => this.#list(d, '')),
    );
    const present = new Set([...pending!, ...claimed!, ...dead!].map(baseOf));
    for (const name of temps!) {
      const path = this.#path('tmp', name);
      const info = await stat(path).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < this.#staleTempMs) continue; // a write in progress
      const base = baseOf(name);
      const key = base.split('-')[3]!;
      const record = await readFile(this.#path('keys', key), 'utf8').catch(() => undefined);
      // Written and fsynced, its id reserved, then the process died before the rename: finish it.
      if (!present.has(base) && record?.includes('"queued"')) {
        await rename(path, this.#path('pending', `${base}~${pad(now)}.json`));
        await syncDir(join(this.dir, 'pending'));
      } else await unlink(path).catch(() => {});
    }
    for (const key of await this.#list('keys', '')) {
      const text = await readFile(this.#path('keys', key), 'utf8').catch(() => '');
      if (!text.includes('"sent"')) continue;
      const { sentAt } = JSON.parse(text) as { sentAt?: number };
      if (typeof sentAt === 'number' && sentAt < now - this.#keepSentMs)
        await unlink(this.#path('keys', key)).catch(() => {});
    }
  }

  #init(): Promise<void> {
    // Retried on the next call after a failure (a folder made writable again).
    this.#ready ??= ensureDirs(this.dir, SUBDIRS).catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  #path(sub: string, name: string): string {
    return join(this.dir, sub, name);
  }

  async #list(sub: string, suffix = '.json'): Promise<string[]> {
    const names = await readdir(join(this.dir, sub));
    return suffix === '' ? names : names.filter((n) => n.endsWith(suffix));
  }

  /** The record at `ref` replaced whole by `message`: written and fsynced aside, then renamed over it. */
  async #rewrite(ref: string, message: OutboxMessage): Promise<void> {
    const tmp = this.#path('tmp', `${baseOf(ref)}~${randomUUID()}.tmp`);
    await writeSynced(tmp, JSON.stringify(message));
    await rename(tmp, join(this.dir, ref));
  }

  async #setKey(id: string, record: Record<string, unknown>): Promise<void> {
    const key = keyOf(id);
    const tmp = this.#path('tmp', `key-${key}~${randomUUID()}.tmp`);
    await writeFile(tmp, JSON.stringify(record), { mode: FILE_MODE });
    await rename(tmp, this.#path('keys', key));
  }
}

/** The file-name form of an id: its sha-256, so any string is a safe, fixed-length name. */
export function keyOf(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 32);
}

function baseOf(refOrName: string): string {
  const name = refOrName.slice(refOrName.lastIndexOf('/') + 1);
  return name.split('~')[0]!.replace(/\.json$/, '');
}

/** The time in a name after `~`: next attempt (pending) or lease end (claimed). */
function stamp(name: string): number {
  return Number(name.slice(name.indexOf('~') + 1, -'.json'.length));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
