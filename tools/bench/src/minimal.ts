/**
 * The floor: a hand-written consecutive-failure breaker with nothing configurable, the kind of
 * 25 lines anyone can write. Not a subject to beat on features; it shows what a closed call
 * through any breaker must at least cost in the same process.
 */
export class MinimalBreaker {
  failures = 0;
  openUntil = 0;
  readonly #onValue = (): void => {
    this.failures = 0;
  };
  readonly #onError = (): void => {
    if (++this.failures >= 5) this.openUntil = performance.now() + 60_000;
  };

  execute<T>(fn: () => Promise<T>): Promise<T> {
    if (this.openUntil !== 0) {
      if (performance.now() < this.openUntil) return Promise.reject(new Error('open'));
      this.openUntil = 0;
    }
    const promise = fn();
    promise.then(this.#onValue, this.#onError);
    return promise;
  }
}
