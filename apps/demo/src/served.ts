/**
 * What answered, per circuit and per source (`live`, `cache`, `stale`, `failover`, `default`,
 * `queued`): the agents record every result they get from a client, so the dashboard and the
 * final table can show which fallbacks served while a dependency was down.
 */
export class ServedTally {
  readonly #counts = new Map<string, Map<string, number>>();

  record(circuit: string, source: string, n = 1): void {
    if (n <= 0) return;
    const bySource = this.#counts.get(circuit) ?? new Map<string, number>();
    this.#counts.set(circuit, bySource);
    bySource.set(source, (bySource.get(source) ?? 0) + n);
  }

  of(circuit: string): Record<string, number> {
    return Object.fromEntries(this.#counts.get(circuit) ?? []);
  }

  /** Served by anything but the live upstream. */
  fallbacks(circuit: string): Record<string, number> {
    const { live: _live, ...rest } = this.of(circuit);
    return rest;
  }
}
