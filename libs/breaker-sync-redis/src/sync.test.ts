import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { CircuitBreaker, isConfigError, type StateChange } from '@gl-vcci/breaker-core';
import { deferred, ManualClock, sampleValue, silentLogger, waitFor } from '@gl-vcci/breaker-core/testing';
import { sharedServer } from '@gl-vcci/upstreams/servers';
import { startTcpProxy, type TcpProxy } from '@gl-vcci/upstreams/tcp-proxy';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_CONNECTED_METRIC, SYNC_EVENTS_METRIC } from './metrics.js';
import type { RedisStateSyncOptions } from './options.js';
import { LEASE_PENDING_MS, RedisStateSync } from './sync.js';

// Several replicas in one process, each with its own RedisStateSync and breaker, on the shared
// Redis (a unique key prefix per test). Breaker time moves with one ManualClock; Redis' own
// (TTLs, pub/sub) is real.

const shared = await sharedServer('Redis', 'REDIS_URL', 'redis://127.0.0.1:6379');
const OPEN_MS = 10_000;
const LEASE_MS = 5_000;

const admin = createClient({ url: shared.url });
beforeAll(async () => {
  if (shared.available) await admin.connect();
});
afterAll(async () => {
  if (admin.isOpen) admin.destroy();
});

interface Replica {
  name: string;
  sync: RedisStateSync;
  breaker: CircuitBreaker;
  changes: StateChange[];
  prom: Registry;
}

let open: Array<{ close(): Promise<void> }> = [];
let prefixes: string[] = [];
afterEach(async () => {
  for (const o of open) await o.close();
  open = [];
  for (const prefix of prefixes) {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(keys);
  }
  prefixes = [];
});

function cluster(options: Partial<RedisStateSyncOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const prefix = `gl-vcci-test:sync:${randomUUID()}:`;
  prefixes.push(prefix);
  const make = async (name: string, extra: Partial<RedisStateSyncOptions> = {}): Promise<Replica> => {
    const prom = new Registry();
    const sync = new RedisStateSync({
      url: shared.url,
      keyPrefix: prefix,
      replicaId: name,
      clock,
      logger: silentLogger(),
      metrics: { registry: prom },
      probeLeaseMs: LEASE_MS,
      ...options,
      ...extra,
    });
    open.push(sync);
    const breaker = new CircuitBreaker(
      { name: 'svc', clock, failMax: 2, openDurationMs: OPEN_MS, slidingWindow: { kind: 'count', size: 10 } },
      { sync },
    );
    const changes: StateChange[] = [];
    breaker.onStateChange((change) => changes.push(change));
    await waitFor(() => sync.connected && sync.subscribed, `${name} connected and subscribed`, 5_000);
    return { name, sync, breaker, changes, prom };
  };
  return { clock, prefix, make };
}

const down =
  (error: unknown = new Error('upstream down')) =>
  () =>
    Promise.reject(error);
async function trip(replica: Replica, error?: unknown): Promise<void> {
  for (let i = 0; i < 2; i++) await replica.breaker.execute(down(error)).catch(() => {});
  expect(replica.breaker.state).toBe('open');
}
/** Lets Redis answer and publish (real time): what has not arrived by then is not coming. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));
const events = (r: Replica, event: string) => sampleValue(r.prom, SYNC_EVENTS_METRIC, { circuit_name: 'svc', event });

describe.skipIf(!shared.available)('RedisStateSync', () => {
  it('shares a trip at once: the other replicas open for the same time, recorded in Redis with its TTL', async () => {
    const { make, prefix, clock } = cluster();
    const [a, b, c] = [await make('a'), await make('b'), await make('c')];
    await trip(a);
    await waitFor(() => b.breaker.state === 'open' && c.breaker.state === 'open', 'b and c open');
    for (const r of [b, c]) {
      expect(r.changes).toEqual([expect.objectContaining({ from: 'closed', to: 'open', reason: 'peer_open' })]);
      expect(r.breaker.snapshot().nextTrialAt).toBe(clock.now() + OPEN_MS);
    }
    expect(await admin.get(`${prefix}{svc}:open`)).toBe('a');
    const ttl = await admin.pTTL(`${prefix}{svc}:open`);
    expect(ttl).toBeGreaterThan(OPEN_MS - 2_000);
    expect(ttl).toBeLessThanOrEqual(OPEN_MS);
    expect(await events(a, 'published_open')).toBe(1);
    expect(await events(b, 'adopted_open')).toBe(1);
    expect(await sampleValue(a.prom, SYNC_CONNECTED_METRIC)).toBe(1);
  });

  it('with a quorum, follows only once that many replicas tripped within the window', async () => {
    const { make } = cluster({ adopt: { quorum: 2, withinMs: 60_000 } });
    const [a, b, c] = [await make('a'), await make('b'), await make('c')];
    await trip(a);
    await settle();
    expect([b.breaker.state, c.breaker.state]).toEqual(['closed', 'closed']);
    expect(await events(a, 'counted_trip')).toBe(1);
    await trip(b);
    await waitFor(() => c.breaker.state === 'open', 'c open');
    expect(c.changes.at(-1)?.reason).toBe('peer_open');
    // a tripped on its own: it stays open on its own time, and counts nothing more.
    expect(a.changes.map((x) => x.reason)).toEqual(['failure_count']);
  });

  it('does not share a trip caused by the replica’s own saturation (a full pool), nor a circuit set to never', async () => {
    const { make } = cluster({ circuits: { svc: { adopt: 'immediate', probeLeaseMs: LEASE_MS } } });
    const [a, b] = [await make('a'), await make('b')];
    await trip(a, Object.assign(new Error('every connection busy'), { code: 'DB_POOL_FULL' }));
    await settle();
    expect(b.breaker.state).toBe('closed');

    const never = cluster({ adopt: 'never' });
    const [x, y] = [await never.make('x'), await never.make('y')];
    await trip(x);
    await settle();
    expect(y.breaker.state).toBe('closed');
  });

  it('lets exactly one replica probe; the others stay open with retryAfterMs; its success closes all', async () => {
    const { make, clock, prefix } = cluster();
    const replicas = [await make('a'), await make('b'), await make('c')];
    await trip(replicas[0]!);
    await waitFor(() => replicas.every((r) => r.breaker.state === 'open'), 'all open');
    clock.advance(OPEN_MS);
    // First asks: each replica asks Redis for the lease and stays open a moment.
    for (const r of replicas) {
      const outcome = await r.breaker.tryExecute(() => 'never');
      expect(outcome).toEqual({ ok: false, refusal: expect.objectContaining({ retryAfterMs: LEASE_PENDING_MS }) });
    }
    await waitFor(
      () => replicas.every((r) => ['held', 'other'].includes(r.sync.status().circuits.svc!.probe)),
      'every lease answer',
    );
    clock.advance(LEASE_PENDING_MS);
    const trial = deferred<string>();
    const ran: string[] = [];
    const outcomes = replicas.map((r) =>
      r.breaker.tryExecute(() => {
        ran.push(r.name);
        return trial.promise;
      }),
    );
    expect(ran).toHaveLength(1);
    const prober = replicas.find((r) => r.name === ran[0])!;
    expect(prober.breaker.state).toBe('half_open');
    for (const [i, r] of replicas.entries()) {
      if (r === prober) continue;
      const refused = await outcomes[i]!;
      expect(refused.ok).toBe(false);
      const retryAfterMs = refused.ok ? 0 : refused.refusal.retryAfterMs!;
      expect(retryAfterMs).toBeGreaterThan(LEASE_MS - 2_000);
      expect(retryAfterMs).toBeLessThanOrEqual(LEASE_MS);
      expect(r.breaker.state).toBe('open');
    }
    trial.resolve('back');
    expect(await outcomes[replicas.indexOf(prober)]).toEqual({ ok: true, value: 'back' });
    await waitFor(() => replicas.every((r) => r.breaker.state === 'closed'), 'all closed');
    for (const r of replicas.filter((x) => x !== prober)) expect(r.changes.at(-1)?.reason).toBe('peer_close');
    expect(await events(prober, 'probe_won')).toBe(1);
    expect(await events(prober, 'published_close')).toBe(1);
    expect(await admin.exists([`${prefix}{svc}:open`, `${prefix}{svc}:probe`, `${prefix}{svc}:trips`])).toBe(0);
  });

  it('close() gives back a probe lease held here, and another replica probes at once', async () => {
    const { make, clock } = cluster();
    const [a, b] = [await make('a'), await make('b')];
    await trip(a);
    await waitFor(() => b.breaker.state === 'open', 'b open');
    clock.advance(OPEN_MS);
    for (const r of [a, b]) await r.breaker.tryExecute(() => 'never');
    const probe = (r: Replica) => r.sync.status().circuits.svc!.probe;
    await waitFor(() => [a, b].every((r) => ['held', 'other'].includes(probe(r))), 'every lease answer');
    const [holder, other] = probe(a) === 'held' ? [a, b] : [b, a];
    await holder.sync.close(); // a graceful shutdown, as in a rolling deploy
    await waitFor(() => probe(other) === 'none', 'the lease given back');
    clock.advance(1);
    await other.breaker.tryExecute(() => 'never'); // asks for the lease
    await waitFor(() => probe(other) === 'held', 'the lease taken here');
    clock.advance(LEASE_PENDING_MS);
    expect(await other.breaker.tryExecute(async () => 'probe')).toEqual({ ok: true, value: 'probe' });
  });

  it('a failed probe reopens every replica for the new period and frees the lease for the next one', async () => {
    const { make, clock, prefix } = cluster();
    const [a, b] = [await make('a'), await make('b')];
    await trip(a);
    await waitFor(() => b.breaker.state === 'open', 'b open');
    clock.advance(OPEN_MS);
    expect((await a.breaker.tryExecute(() => 'never')).ok).toBe(false); // a call asks for the lease
    await waitFor(() => a.sync.status().circuits.svc!.probe === 'held', 'a holds the lease');
    expect(await admin.get(`${prefix}{svc}:probe`)).toBe('a');
    expect((await b.breaker.tryExecute(() => 'never')).ok).toBe(false);
    await waitFor(() => b.sync.status().circuits.svc!.probe === 'other', 'b sees the lease taken');
    clock.advance(LEASE_PENDING_MS);
    await a.breaker.execute(down()).catch(() => {});
    expect(a.changes.at(-1)).toMatchObject({ from: 'half_open', to: 'open', reason: 'trial_failure' });
    await waitFor(async () => (await admin.get(`${prefix}{svc}:probe`)) === null, 'the lease freed');
    await waitFor(() => b.sync.status().circuits.svc!.probe === 'none', 'b adopted the reopening');
    expect(b.breaker.snapshot().nextTrialAt).toBe(clock.now() + OPEN_MS);
    expect(b.changes.map((c) => c.reason)).toEqual(['peer_open']);
  });

  describe('when Redis is unavailable', () => {
    let proxy: TcpProxy | undefined;
    afterEach(async () => {
      await proxy?.close();
      proxy = undefined;
    });

    it('goes on alone (trips stay local, it probes by itself) and shares its opening when Redis returns', async () => {
      const { hostname, port } = new URL(shared.url);
      proxy = await startTcpProxy({ target: { host: hostname, port: Number(port || 6379) } });
      const { make, clock } = cluster();
      const a = await make('a', { url: `redis://127.0.0.1:${proxy.port}`, guard: { failMax: 1 } });
      const b = await make('b');
      await proxy.mode('cut');
      await waitFor(() => !a.sync.connected, 'a sees Redis gone');
      await trip(a);
      await settle();
      expect(b.breaker.state).toBe('closed');
      expect(await events(a, 'unsynced')).toBeGreaterThanOrEqual(1);
      expect(await sampleValue(a.prom, SYNC_CONNECTED_METRIC)).toBe(0);

      await proxy.mode('pass');
      await waitFor(() => b.breaker.state === 'open', 'b adopts a’s opening once Redis is back', 5_000);
      expect(await events(a, 'resynced')).toBe(1);
      expect(b.breaker.snapshot().nextTrialAt).toBeGreaterThan(clock.now() + OPEN_MS - 1_000);

      await proxy.mode('cut');
      await waitFor(() => !a.sync.connected, 'a sees Redis gone again');
      clock.advance(OPEN_MS);
      void a.breaker.execute(() => deferred().promise).catch(() => {}); // a call: no lease to ask for
      expect(a.breaker.state).toBe('half_open'); // probes alone
    });

    it('a replica that starts while a circuit is recorded open adopts it', async () => {
      const { make } = cluster();
      const a = await make('a');
      await trip(a);
      const late = await make('late');
      await waitFor(() => late.breaker.state === 'open', 'the late replica adopts');
      expect(late.changes[0]?.reason).toBe('peer_open');
    });
  });

  it('checks its options, naming the field and never showing the URL', () => {
    const secret = 'redis://:hunter2@[::1';
    let thrown: unknown;
    try {
      new RedisStateSync({ url: secret, adopt: { quorum: 0, withinMs: 10 } });
    } catch (error) {
      thrown = error;
    }
    expect(isConfigError(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(/url: expected a redis:\/\/ or rediss:\/\/ URL/);
    expect((thrown as Error).message).toMatch(/adopt/);
    expect(inspect(thrown, { depth: null })).not.toContain('hunter2');
  });

  it('close() ends both connections: the process has no handle of it left', async () => {
    const { make } = cluster();
    const a = await make('a');
    const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    await a.sync.close();
    await waitFor(
      () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length <= before - 2,
      'both sockets closed',
    );
    expect(a.sync.status()).toMatchObject({ closed: true, connected: false });
    await trip(a); // the breaker goes on alone
  });
});
