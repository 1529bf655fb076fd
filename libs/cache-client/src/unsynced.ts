/** One key to reconcile and the generation of its local-only write when the run began. */
export type Snapshot = ReadonlyArray<readonly [key: string, generation: number]>;

/**
 * The keys whose last write (set or del) reached only the local tier, so Redis may hold an older
 * copy of them, and the writes to Redis in flight per key. A Redis hit on a tracked key is
 * answered from the local tier until reconciliation has deleted it in Redis.
 *
 * Reconciliation must never delete a write made since: a key is deleted only if, at the moment
 * its DEL is issued, its last write is still the local-only one the run started from and no
 * write of it to Redis is in flight. Commands on one connection run in order, so a write issued
 * after that DEL lands after it; one issued before is either in flight (skipped) or done
 * (untracked, skipped).
 */
export class UnsyncedKeys {
  /** Tracked key → generation of its last local-only write; Map order is the order of those writes. */
  readonly #generations = new Map<string, number>();
  /** Key → writes of it to Redis issued and not yet settled. */
  readonly #writing = new Map<string, number>();
  #generation = 0;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Most keys tracked at once. */
  get limit(): number {
    return this.#limit;
  }

  get size(): number {
    return this.#generations.size;
  }

  has(key: string): boolean {
    return this.#generations.has(key);
  }

  /** A write of `key` reached only the local tier; false when it could not be tracked (the bound is reached). */
  track(key: string): boolean {
    if (!this.#generations.has(key) && this.#generations.size >= this.#limit) return false;
    // Deleted first so the Map's order stays the order of the last writes.
    this.#generations.delete(key);
    this.#generations.set(key, ++this.#generation);
    return true;
  }

  /** A write of `key` to Redis is being issued: returns the ticket `settled` takes. */
  writing(key: string): number {
    this.#writing.set(key, (this.#writing.get(key) ?? 0) + 1);
    return this.#generation;
  }

  /** That write settled; Redis took it (`ok`): the key is in sync unless written locally only since. */
  settled(key: string, ticket: number, ok: boolean): void {
    const left = (this.#writing.get(key) ?? 1) - 1;
    if (left > 0) this.#writing.set(key, left);
    else this.#writing.delete(key);
    if (!ok) return;
    const generation = this.#generations.get(key);
    if (generation !== undefined && generation <= ticket) this.#generations.delete(key);
  }

  /** The keys tracked now, for one reconciliation run: a key tracked during the run waits for the next. */
  snapshot(): Snapshot {
    return [...this.#generations];
  }

  /** Called as the DEL is issued: the keys of `entries` still safe to delete in Redis now. */
  deletable(entries: Snapshot): string[] {
    return entries
      .filter(([key, generation]) => this.#generations.get(key) === generation && !this.#writing.has(key))
      .map(([key]) => key);
  }

  /** Redis deleted `keys` (taken from `entries`): forget those not written locally only since. */
  deleted(keys: readonly string[], entries: Snapshot): void {
    const at = new Map(entries);
    for (const key of keys) {
      if (this.#generations.get(key) === at.get(key)) this.#generations.delete(key);
    }
  }
}
