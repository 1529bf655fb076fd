import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  CircuitBreaker,
  type CircuitState,
  type Clock,
  createLogger,
  type Logger,
  type StateChange,
  type StateSync,
  systemClock,
} from '@gl-vcci/breaker-core';
import { loggedError } from '@gl-vcci/breaker-core/client';
import { createClient } from 'redis';
import { createSyncMetrics, type SyncMetrics } from './metrics.js';
import { type AdoptPolicy, checkOptions, isLocalFailure, type RedisStateSyncOptions } from './options.js';
import { ACQUIRE, CLOSE, OPEN_LEFT, TRIP } from './scripts.js';

/** How long a circuit stays open while this replica asks Redis for the probe lease. */
export const LEASE_PENDING_MS = 25;

/** Local trips that travel (a trial's failure travels as a reopening). */
const TRIPS: ReadonlySet<string> = new Set(['failure_count', 'failure_rate', 'slow_call_rate', 'retry_after']);
const TRIAL_FAILURES: ReadonlySet<string> = new Set(['trial_failure', 'trial_timeout']);

/**
 * Where this replica stands on a circuit's probe lease: not asked, asking, holding it, another
 * replica holds it (until `otherUntil`), or Redis could not be asked (probe locally).
 */
type Lease = 'none' | 'pending' | 'held' | 'other' | 'local';

interface Circuit {
  readonly breaker: CircuitBreaker;
  readonly quorum: number;
  readonly withinMs: number;
  readonly shared: boolean;
  readonly leaseMs: number;
  readonly keys: { open: string; trips: string; probe: string };
  lease: Lease;
  otherUntil: number;
  /** The current opening was this replica's own trip (to share again after an outage of Redis). */
  ownOpening: boolean;
  /** Bumped on each transition: a lease answer for an earlier open period is dropped. */
  epoch: number;
  unsubscribe: () => void;
}

interface Message {
  /** circuit */
  c: string;
  /** 'open' | 'close' | 'free' (a probe lease given back) */
  t: string;
  /** the replica that sent it */
  by: string;
  /** ms left open */
  ms?: number;
}

export interface RedisStateSyncStatus {
  replicaId: string;
  /** Redis answers and the guard's circuit lets commands through. */
  connected: boolean;
  /** State of the breaker that guards the Redis connection. */
  guard: CircuitState;
  circuits: Record<string, { state: CircuitState; probe: Lease }>;
  closed: boolean;
}

type Client = ReturnType<typeof createClient>;

/**
 * Circuit state shared through Redis (see the README): a local trip writes an "open until" record
 * with a TTL and publishes it; other replicas adopt it (at once, or once a quorum of replicas
 * tripped within a window). When the open period runs out, one replica takes the probe lease
 * (`SET NX PX`) and sends the trial calls; the others stay open and refuse with `retryAfterMs`.
 * Its closing is published too. Nothing here runs on a call through a closed circuit.
 *
 * Redis unavailable: every command goes through a breaker of its own (`breaker_sync.redis`), each
 * replica goes on alone (its trips stay local, it probes by itself), and when Redis answers again
 * it shares its open circuits and adopts the ones recorded there.
 */
export class RedisStateSync implements StateSync {
  readonly replicaId: string;
  readonly #options: RedisStateSyncOptions;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #client: Client;
  readonly #subscriber: Client;
  readonly #guard: CircuitBreaker;
  readonly #metrics: SyncMetrics;
  readonly #circuits = new Map<string, Circuit>();
  readonly #localFailure: (error: unknown) => boolean;
  #closed = false;
  #subscribed = false;

  constructor(options: RedisStateSyncOptions) {
    this.#options = checkOptions(options);
    const o = this.#options;
    this.replicaId = o.replicaId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#prefix = o.keyPrefix ?? 'gl-vcci:breaker:';
    this.#channel = `${this.#prefix}events`;
    this.#clock = o.clock ?? systemClock;
    this.#logger = (o.logger ?? createLogger()).child({ component: 'breaker-sync' });
    this.#localFailure = o.localFailure ?? isLocalFailure;
    const timeoutMs = o.commandTimeoutMs ?? 1_000;
    this.#guard = new CircuitBreaker(
      {
        name: 'breaker_sync.redis',
        clock: this.#clock,
        failMax: o.guard?.failMax ?? 3,
        slidingWindow: { kind: 'count', size: 10 },
        openDurationMs: o.guard?.openDurationMs ?? 5_000,
        callTimeoutMs: timeoutMs,
      },
      { logger: this.#logger },
    );
    this.#metrics = createSyncMetrics(o.metrics === false ? undefined : o.metrics?.registry, () => this.connected);
    this.#client = createClient({
      url: o.url,
      // No offline queue: while Redis is away a command fails at once and the guard counts it.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: timeoutMs,
        // Short and capped: node-redis' retry pause cannot be cancelled, so close() waits at most this.
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500),
      },
    });
    this.#subscriber = this.#client.duplicate();
    for (const [client, role] of [
      [this.#client, 'commands'],
      [this.#subscriber, 'subscriber'],
    ] as const) {
      client.on('error', (error: unknown) => {
        this.#logger.debug({ role, error: loggedError(error) }, 'Redis connection error');
      });
    }
    this.#client.on('ready', () => this.#onReady());
    this.#client.connect().catch(() => {});
    this.#subscriber
      .connect()
      .then(() => this.#subscriber.subscribe(this.#channel, (text) => this.#onMessage(text)))
      .then(() => {
        this.#subscribed = true;
      })
      .catch(() => {});
  }

  /** Redis answers and the guard lets commands through. */
  get connected(): boolean {
    return !this.#closed && this.#client.isReady && this.#guard.state !== 'open';
  }

  attach(breaker: CircuitBreaker): void {
    if (this.#closed || this.#circuits.has(breaker.name)) return;
    const name = breaker.name;
    const own = this.#options.circuits?.[name];
    const policy: AdoptPolicy = own?.adopt ?? this.#options.adopt ?? 'immediate';
    const tag = `${this.#prefix}{${name}}`;
    const trialMs = breaker.config.callTimeoutMs ?? breaker.config.trialTimeoutMs;
    const circuit: Circuit = {
      breaker,
      quorum: typeof policy === 'object' ? policy.quorum : 1,
      withinMs: typeof policy === 'object' ? policy.withinMs : 60_000,
      shared: policy !== 'never',
      leaseMs: Math.ceil(own?.probeLeaseMs ?? this.#options.probeLeaseMs ?? trialMs + 1_000),
      keys: { open: `${tag}:open`, trips: `${tag}:trips`, probe: `${tag}:probe` },
      lease: 'none',
      otherUntil: 0,
      ownOpening: false,
      epoch: 0,
      unsubscribe: () => {},
    };
    circuit.unsubscribe = breaker.onStateChange((change) => this.#onLocal(circuit, change));
    this.#circuits.set(name, circuit);
    this.#metrics.track(name);
    if (this.#client.isReady) void this.#adoptRecorded(circuit);
  }

  probeDelay(breaker: CircuitBreaker, now: number): number {
    const circuit = this.#circuits.get(breaker.name);
    if (!circuit || circuit.breaker !== breaker || !this.connected) return 0;
    switch (circuit.lease) {
      case 'held':
      case 'local':
        return 0;
      case 'pending':
        return LEASE_PENDING_MS;
      case 'other':
        if (now < circuit.otherUntil) return circuit.otherUntil - now;
    }
    circuit.lease = 'pending';
    void this.#acquire(circuit);
    return LEASE_PENDING_MS;
  }

  status(): RedisStateSyncStatus {
    const circuits: RedisStateSyncStatus['circuits'] = {};
    for (const [name, c] of this.#circuits) circuits[name] = { state: c.breaker.state, probe: c.lease };
    return {
      replicaId: this.replicaId,
      connected: this.connected,
      guard: this.#guard.state,
      circuits,
      closed: this.#closed,
    };
  }

  /** Stops following the breakers and closes both Redis connections. The breakers go on alone. */
  async close(): Promise<void> {
    if (this.#closed) return;
    // A probe lease held here is given back first, so a peer can probe at once: otherwise a
    // rolling deploy would stall recovery for probeLeaseMs (bounded by the command deadline).
    const held = [...this.#circuits.values()].filter((circuit) => circuit.lease === 'held');
    await Promise.allSettled(held.map((circuit) => this.#freeLease(circuit)));
    this.#closed = true;
    for (const circuit of this.#circuits.values()) circuit.unsubscribe();
    this.#metrics.close();
    for (const client of [this.#subscriber, this.#client]) {
      client.removeAllListeners('ready');
      client.destroy();
    }
  }

  /** A transition of this replica's own breaker. */
  #onLocal(circuit: Circuit, change: StateChange): void {
    if (this.#closed) return;
    circuit.epoch++;
    // Half-open here means this replica probes now: it keeps the lease until the trials end.
    if (change.to === 'half_open') return;
    const held = circuit.lease === 'held';
    circuit.lease = 'none';
    if (change.to === 'open') {
      circuit.ownOpening = change.reason !== 'peer_open';
      if (!circuit.ownOpening || !circuit.shared) return;
      const reopening = TRIAL_FAILURES.has(change.reason);
      if (!reopening && (!TRIPS.has(change.reason) || this.#localFailure(change.lastError))) {
        circuit.ownOpening = false; // our own saturation: nothing to tell the others
        return;
      }
      // The prober's trial failed: the circuit was shared already, so the reopening goes out at once.
      void this.#publishOpen(
        circuit,
        Math.max(1, Math.round((change.nextTrialAt ?? change.at) - change.at)),
        reopening,
        held,
      );
    } else if (change.to === 'closed') {
      const own = circuit.ownOpening;
      circuit.ownOpening = false;
      if (change.reason === 'trial_success' && circuit.shared) void this.#publishClose(circuit);
      else if (held || own) void this.#publishClose(circuit, false);
    }
  }

  async #publishOpen(circuit: Circuit, ms: number, reopening: boolean, release: boolean): Promise<void> {
    const { keys, breaker } = circuit;
    const message: Message = { c: breaker.name, t: 'open', by: this.replicaId, ms };
    const count = await this.#run('open', circuit, (client) =>
      client.eval(TRIP, {
        keys: [keys.open, keys.trips, keys.probe],
        arguments: [
          this.replicaId,
          String(ms),
          String(reopening ? 1 : circuit.quorum),
          String(circuit.withinMs),
          this.#channel,
          JSON.stringify(message),
          release || reopening ? '1' : '0',
        ],
      }),
    );
    if (typeof count !== 'number') return;
    this.#metrics.inc(breaker.name, count > 0 ? 'published_open' : 'counted_trip');
    this.#logger.info(
      { circuit: breaker.name, trips: Math.abs(count), quorum: reopening ? 1 : circuit.quorum, openForMs: ms },
      count > 0 ? 'circuit opening shared with the other replicas' : 'trip counted, below the quorum: kept local',
    );
  }

  /** Gives back the probe lease held here and tells the others, who may then ask for it at once. */
  async #freeLease(circuit: Circuit): Promise<void> {
    const { keys, breaker } = circuit;
    const message: Message = { c: breaker.name, t: 'free', by: this.replicaId };
    await this.#run('free', circuit, (client) =>
      client.eval(
        `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) redis.call('PUBLISH', ARGV[2], ARGV[3]) end return 1`,
        { keys: [keys.probe], arguments: [this.replicaId, this.#channel, JSON.stringify(message)] },
      ),
    );
  }

  /** `announce`: a trial succeeded here, tell the others; otherwise only this replica's lease and trip are dropped. */
  async #publishClose(circuit: Circuit, announce = true): Promise<void> {
    const { keys, breaker } = circuit;
    if (!announce) {
      await this.#run('close', circuit, (client) =>
        client.eval(
          `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end redis.call('ZREM', KEYS[2], ARGV[1]) return 1`,
          { keys: [keys.probe, keys.trips], arguments: [this.replicaId] },
        ),
      );
      return;
    }
    const message: Message = { c: breaker.name, t: 'close', by: this.replicaId };
    const done = await this.#run('close', circuit, (client) =>
      client.eval(CLOSE, {
        keys: [keys.open, keys.trips, keys.probe],
        arguments: [this.#channel, JSON.stringify(message)],
      }),
    );
    if (done === undefined) return;
    this.#metrics.inc(breaker.name, 'published_close');
    this.#logger.info({ circuit: breaker.name }, 'circuit closing shared with the other replicas');
  }

  async #acquire(circuit: Circuit): Promise<void> {
    const epoch = circuit.epoch;
    const { keys, breaker } = circuit;
    const left = await this.#run('probe', circuit, (client) =>
      client.eval(ACQUIRE, { keys: [keys.probe], arguments: [this.replicaId, String(circuit.leaseMs)] }),
    );
    if (circuit.epoch !== epoch || circuit.lease !== 'pending') return; // moved on meanwhile
    if (typeof left !== 'number') {
      circuit.lease = 'local'; // Redis could not say: probe here, as if alone
      return;
    }
    if (left === -1) {
      circuit.lease = 'held';
      this.#metrics.inc(breaker.name, 'probe_won');
      return;
    }
    circuit.lease = 'other';
    circuit.otherUntil = this.#clock.now() + (left > 0 ? left : LEASE_PENDING_MS);
    this.#metrics.inc(breaker.name, 'probe_lost');
  }

  #onMessage(text: string): void {
    if (this.#closed) return;
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (message.by === this.replicaId) return;
    const circuit = this.#circuits.get(message.c);
    if (!circuit?.shared) return;
    if (message.t === 'open' && typeof message.ms === 'number') {
      if (circuit.lease !== 'held') circuit.lease = 'none';
      if (circuit.breaker.adoptOpen(message.ms)) {
        this.#metrics.inc(message.c, 'adopted_open');
        this.#logger.warn(
          { circuit: message.c, by: message.by, openForMs: message.ms },
          'circuit opened by another replica',
        );
      }
    } else if (message.t === 'free' && circuit.lease === 'other') {
      // The prober left (a graceful shutdown): the next call here asks for the lease again.
      circuit.lease = 'none';
      circuit.breaker.adoptOpen(1);
    } else if (message.t === 'close') {
      circuit.lease = 'none';
      if (circuit.breaker.adoptClose()) {
        this.#metrics.inc(message.c, 'adopted_close');
        this.#logger.info({ circuit: message.c, by: message.by }, 'circuit closed by another replica');
      }
    }
  }

  /** Redis (re)connected: the guard may try again; share what opened here meanwhile, adopt what opened elsewhere. */
  #onReady(): void {
    if (this.#closed) return;
    this.#guard.allowTrial();
    for (const circuit of this.#circuits.values()) {
      const { breaker } = circuit;
      const snapshot = breaker.snapshot();
      if (snapshot.state === 'open' && circuit.ownOpening && circuit.shared && snapshot.nextTrialAt !== undefined) {
        const ms = Math.round(snapshot.nextTrialAt - this.#clock.now());
        if (ms > 0) {
          this.#metrics.inc(breaker.name, 'resynced');
          void this.#publishOpen(circuit, ms, false, false);
        }
      } else if (snapshot.state === 'closed') void this.#adoptRecorded(circuit);
    }
  }

  /** An opening recorded in Redis (by a replica that published while this one could not hear it). */
  async #adoptRecorded(circuit: Circuit): Promise<void> {
    if (!circuit.shared) return;
    const left = await this.#run('read', circuit, (client) => client.eval(OPEN_LEFT, { keys: [circuit.keys.open] }));
    if (typeof left === 'number' && left > 0 && circuit.breaker.adoptOpen(left)) {
      this.#metrics.inc(circuit.breaker.name, 'adopted_open');
      this.#logger.warn({ circuit: circuit.breaker.name, openForMs: left }, 'circuit open on other replicas: adopted');
    }
  }

  /** One command through the guard; undefined when it was refused or failed (counted, logged at debug). */
  async #run(what: string, circuit: Circuit, command: (client: Client) => Promise<unknown>): Promise<unknown> {
    if (this.#closed) return undefined;
    try {
      const outcome = await this.#guard.tryExecute(() => command(this.#client));
      if (outcome.ok) return outcome.value ?? null;
    } catch (error) {
      this.#logger.debug({ circuit: circuit.breaker.name, what, error: loggedError(error) }, 'Redis command failed');
    }
    this.#metrics.inc(circuit.breaker.name, 'unsynced');
    return undefined;
  }

  /** Whether the subscriber listens: until then this replica hears no other replica. */
  get subscribed(): boolean {
    return this.#subscribed;
  }
}
