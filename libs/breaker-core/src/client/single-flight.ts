/**
 * Coalesces identical calls in flight: while a call for `key` runs, later callers of the same key
 * share its promise instead of starting another. The entry goes when the call settles, so a
 * failure is never cached. Callers that want to stop waiting early wrap the result in `raceAbort`:
 * the shared call runs to its own deadline for the others.
 */
export class SingleFlight<T> {
  readonly #running = new Map<string, Promise<T>>();

  run(key: string, call: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key);
    if (running) return running;
    const started = call().finally(() => {
      if (this.#running.get(key) === started) this.#running.delete(key);
    });
    this.#running.set(key, started);
    return started;
  }

  /** Calls in flight, by key. */
  get size(): number {
    return this.#running.size;
  }
}
