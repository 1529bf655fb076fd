// Measures cache-client's per-process record of local-only writes (UnsyncedKeys) at scale, for
// the README: memory per tracked key, and how long other replicas can read Redis' older copy after
// Redis returns (until this replica's reconciliation has deleted it). Not a test: run by hand on
// the built package, with the shared Redis (REDIS_URL), `node --expose-gc test/unsynced-scale.mjs`.
import { randomUUID } from 'node:crypto';
import { BreakerRegistry } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { startTcpProxy } from '@gl-vcci/upstreams/tcp-proxy';
import { createClient } from 'redis';
import { createCacheClient } from '../dist/index.js';
import { UnsyncedKeys } from '../dist/unsynced.js';

const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};

// 1. Memory of the record alone, keys of 40 characters (a prefix and an id).
const kept = [];
for (const n of [10_000, 100_000]) {
  const keys = Array.from({ length: n }, (_, i) => `gl-vcci:factor:${String(i).padStart(25, '0')}`);
  const before = heap();
  const record = new UnsyncedKeys(n);
  for (const key of keys) record.track(key);
  kept.push(keys, record);
  const bytes = (heap() - before) / n;
  console.log(`memory: ${n} tracked keys: ${bytes.toFixed(0)} B per key (keys themselves shared with the caller)`);
}

// 2. Stale window: N keys in Redis, written locally only during an outage, then Redis returns.
const admin = createClient({ url: url.href });
await admin.connect();
for (const n of [1_000, 10_000]) {
  const prefix = `gl-vcci-measure:${randomUUID()}:`;
  const proxy = await startTcpProxy({ target: { host: url.hostname, port: Number(url.port || 6379) } });
  const registry = new BreakerRegistry({ metrics: false, logger: silentLogger() });
  const cache = createCacheClient({
    registry,
    url: `redis://127.0.0.1:${proxy.port}`,
    keyPrefix: prefix,
    local: { maxEntries: n },
  });
  for (let i = 0; i < 100 && !cache.status().connected; i++) await sleep(20);
  const multi = admin.multi();
  for (let i = 0; i < n; i++) multi.set(`${prefix}k${i}`, JSON.stringify({ v: 'old' }), { PX: 600_000 });
  await multi.exec();
  await proxy.mode('cut');
  for (let i = 0; i < 100 && cache.status().connected; i++) await sleep(20);
  for (let i = 0; i < n; i++) await cache.set(`k${i}`, { v: 'new' }, 600_000);
  const tracked = cache.status().unsyncedKeys;
  const back = performance.now();
  await proxy.mode('pass');
  let reconnected;
  while (cache.status().unsyncedKeys > 0) {
    if (reconnected === undefined && cache.status().connected) reconnected = performance.now() - back;
    await sleep(1);
  }
  const reconciled = performance.now() - back;
  const left = await admin.exists(`${prefix}k${n - 1}`);
  console.log(
    `stale window: ${tracked} keys tracked; connected again after ${reconnected?.toFixed(0)} ms, ` +
      `all deleted in Redis after ${reconciled.toFixed(0)} ms (${(reconciled / (n / 100)).toFixed(2)} ms per DEL of 100); last key left: ${left}`,
  );
  await cache.close();
  registry.close();
  await proxy.close();
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(keys);
}
admin.destroy();
