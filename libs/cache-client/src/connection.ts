import { setMaxListeners } from 'node:events';
import type { Logger } from '@gl-vcci/breaker-core';
import { loggedError } from '@gl-vcci/breaker-core/client';
import { createClient, DisconnectsClientError } from 'redis';
import { isCredentialsRefusal } from './classify.js';

export type RedisClient = ReturnType<typeof createFailFastClient>;

export interface RedisConnectionOptions {
  url: string;
  connectTimeoutMs: number;
  socketTimeoutMs: number;
  pingIntervalMs: number;
  reconnectMaxDelayMs: number;
  logger: Logger;
  /** Told of every 'error' event (for the metric); never throws. */
  onError: (error: unknown) => void;
  /** Told each time a connection becomes ready (the first one and every reconnect); never throws. */
  onReady?: () => void;
}

const RECONNECT_BASE_DELAY_MS = 50;

/**
 * The node-redis client, set up to fail fast (see sdk-failure-semantics.md §6), and the loop
 * that keeps one connected.
 *
 * Reconnection is ours, not node-redis': each connection is a fresh client whose
 * `reconnectStrategy` is `false`, and when it ends ('terminated') the next one is opened after a
 * backoff on a timer we own. node-redis' own retry loop waits on an uncancellable timer, so a
 * client closed during an outage kept the process alive until the pause ran out (measured: 2 s
 * after destroy()); ours is cleared by close(). It never gives up: a SocketTimeoutError (the
 * hung-server case, which node-redis' default strategy turns into a permanent close) is one more
 * reason to reconnect.
 */
export class RedisConnection {
  readonly #options: RedisConnectionOptions;
  #client: RedisClient;
  #timer: NodeJS.Timeout | undefined;
  #failedAttempts = 0;
  #closed = false;
  #down = false;
  /** Until the first connection attempt ends, commands wait for it instead of failing as offline. */
  #boot: Promise<void> | undefined;
  #unwritten = new AbortController();
  /** `#client` bound to `#unwritten`'s signal, made on first use. */
  #commandClient: RedisClient | undefined;
  #endBoot: (() => void) | undefined;

  constructor(options: RedisConnectionOptions) {
    this.#options = options;
    this.#boot = new Promise<void>((resolve) => {
      this.#endBoot = () => {
        this.#boot = undefined;
        this.#endBoot = undefined;
        resolve();
      };
    });
    this.#client = this.#open();
  }

  /** A connection is ready for commands. */
  get ready(): boolean {
    return !this.#closed && this.#client.isReady;
  }

  /**
   * Runs one command on the current client. While Redis is unavailable node-redis rejects it at
   * once (ClientOfflineError, ClientClosedError): no offline queue. At boot it first waits for
   * the first connection attempt (bounded by connectTimeoutMs and socketTimeoutMs), so a burst of
   * calls at start-up does not trip the circuit before Redis had a chance to answer.
   */
  run<T>(command: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.#boot === undefined) return command(this.#commands());
    // The signal of the call's own time: a deadline that passes while it waits drops it too.
    const unwritten = this.#unwritten.signal;
    return this.#boot.then(() => {
      // Closed while waiting: fail the way node-redis fails a command destroy() cut short.
      if (this.#closed) return Promise.reject(new DisconnectsClientError());
      if (unwritten.aborted) return Promise.reject(unwritten.reason);
      return command(this.#commands());
    });
  }

  /**
   * A call's deadline passed: every command node-redis has not yet written (those waiting for the
   * first connection, those queued behind another on a jammed socket) is dropped now, rejected
   * with `reason`, so none is written late, after its caller was told it failed. node-redis still
   * writes one command per event-loop turn into Node's socket buffer, jammed or not: those, like
   * every command already written, cannot be taken back.
   */
  dropUnwritten(reason: unknown): void {
    this.#unwritten.abort(reason);
    this.#unwritten = new AbortController();
    this.#commandClient = undefined;
  }

  /**
   * The client, bound to the signal that drops unwritten commands. One signal for all commands
   * rather than one per call: a signal and node-redis' proxy for it cost ~3 µs, a tenth of a GET.
   */
  #commands(): RedisClient {
    if (this.#commandClient !== undefined) return this.#commandClient;
    const signal = this.#unwritten.signal;
    // node-redis adds an abort listener per command waiting to be written: many is not a leak.
    setMaxListeners(0, signal);
    this.#commandClient = this.#client.withAbortSignal(signal);
    return this.#commandClient;
  }

  /** Stops reconnecting and destroys the client: pending commands reject with DisconnectsClientError. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#endBoot?.();
    this.#client.destroy();
  }

  #open(): RedisClient {
    const client = createFailFastClient(this.#options);
    // Unheard, an 'error' event would crash the process.
    client.on('error', (error: unknown) => this.#onError(error));
    client.on('ready', () => this.#onReady(client));
    client.on('terminated', () => this.#onEnded(client));
    // Never awaited: the outcome arrives as 'ready' or 'terminated'.
    client.connect().catch(() => this.#onEnded(client));
    return client;
  }

  #onReady(client: RedisClient): void {
    if (client !== this.#client || this.#closed) return;
    this.#failedAttempts = 0;
    this.#endBoot?.();
    if (this.#down) this.#options.logger.info('redis connection recovered');
    else this.#options.logger.debug('redis connection ready');
    this.#down = false;
    this.#options.onReady?.();
  }

  #onError(error: unknown): void {
    this.#options.onError(error);
    if (this.#closed) return;
    // 'error' fires on every failed attempt: say it once per outage at warn, then at debug.
    const logged = { error: loggedError(error) };
    if (this.#down) {
      this.#options.logger.debug(logged, 'redis connection error');
      return;
    }
    this.#down = true;
    if (isCredentialsRefusal(error)) {
      // The deployment's problem, not a passing outage: on-call must see it.
      this.#options.logger.error(
        logged,
        `credentials refused by redis (${error.message.split(' ', 1)[0]}): check the user and password of the URL`,
      );
    } else {
      this.#options.logger.warn(logged, 'redis unavailable: serving from the local tier');
    }
  }

  /** This connection will not come back (its strategy is `false`): open the next one after a pause. */
  #onEnded(client: RedisClient): void {
    if (client !== this.#client || this.#closed || this.#timer !== undefined) return;
    this.#endBoot?.();
    const ceiling = Math.min(this.#options.reconnectMaxDelayMs, RECONNECT_BASE_DELAY_MS * 2 ** this.#failedAttempts);
    this.#failedAttempts = Math.min(this.#failedAttempts + 1, 30);
    // Half fixed, half random: clients that lost Redis together do not all come back together.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      // Not destroyed on 'terminated' itself: node-redis emits it before it fails the commands in
      // flight with the real cause, and destroy() would fail them first with
      // DisconnectsClientError, which the breaker ignores. Now it only clears the PING timer.
      client.destroy();
      this.#client = this.#open();
      this.#commandClient = undefined;
    }, delay);
    // A cache never keeps the process alive by itself.
    this.#timer.unref();
  }
}

/** A node-redis client set up to fail fast, that never reconnects by itself (RedisConnection does). */
function createFailFastClient(o: RedisConnectionOptions) {
  return createClient({
    url: o.url,
    // Commands issued while disconnected fail at once instead of waiting for a reconnect.
    disableOfflineQueue: true,
    // Keeps an idle socket under socketTimeout; against a hung server the unanswered PING stops
    // the next one, so the idle timer still fires and the socket is replaced.
    pingInterval: o.pingIntervalMs,
    // No per-command timeout: it only covers a command not yet written, which the breaker's signal
    // (withAbortSignal) already drops at the deadline, and it leaves an AbortSignal.timeout timer
    // behind every command until it expires (5 s by default in v6).
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: o.connectTimeoutMs,
      socketTimeout: o.socketTimeoutMs,
      reconnectStrategy: false,
    },
  });
}
