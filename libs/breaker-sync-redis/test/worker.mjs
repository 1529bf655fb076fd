// One replica, in its own process, for the cluster test: a breaker (with or without the Redis sync,
// from the built package) in front of a simulated upstream, called by `concurrency` loops. Driven
// over IPC by the test: setup, go, pause, exit. Reports each transition of its breaker.
import { CircuitBreaker } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { RedisStateSync } from '../dist/index.js';

const id = process.argv[2];
let breaker;
let sync;
let running = false;
let loops = [];
let unsubscribe = () => {};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const send = (message) => process.send?.({ id, ...message });

async function setup(o) {
  if (o.sync) {
    sync = new RedisStateSync({
      url: o.redisUrl,
      keyPrefix: o.prefix,
      replicaId: `worker-${id}`,
      logger: silentLogger(),
      metrics: false,
    });
    for (let i = 0; i < 400 && !(sync.connected && sync.subscribed); i++) await sleep(10);
    if (!sync.connected) throw new Error(`worker ${id}: Redis not reached`);
  }
  breaker = new CircuitBreaker(
    {
      name: 'upstream.ping',
      failMax: o.failMax,
      slidingWindow: { kind: 'count', size: o.failMax * 2 },
      openDurationMs: o.openDurationMs,
      callTimeoutMs: o.callTimeoutMs,
      halfOpenMaxCalls: 1,
    },
    { logger: silentLogger(), ...(sync ? { sync } : {}) },
  );
  unsubscribe = breaker.onStateChange((c) =>
    send({ type: 'state', from: c.from, to: c.to, reason: c.reason, at: Date.now() }),
  );
  send({ type: 'ready' });
}

async function loop(o) {
  while (running) {
    try {
      await breaker.tryExecute(async (signal) => {
        // Read once admitted: the first call past an open period is what turns it half-open.
        const trial = breaker.state === 'half_open';
        const response = await fetch(o.url, {
          signal,
          headers: { 'x-worker': id, 'x-trial': trial ? '1' : '0', 'x-sent-at': String(Date.now()) },
        });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
      });
    } catch {
      // counted by the breaker
    }
    await sleep(o.intervalMs);
  }
}

process.on('message', async (m) => {
  try {
    if (m.cmd === 'setup') await setup(m.options);
    else if (m.cmd === 'go') {
      if (m.options.delayMs > 0) await sleep(m.options.delayMs);
      running = true;
      send({ type: 'started', at: Date.now() });
      loops = Array.from({ length: m.options.concurrency }, () => loop(m.options));
    } else if (m.cmd === 'pause') {
      running = false;
      await Promise.all(loops);
      unsubscribe();
      await sync?.close();
      sync = undefined;
      send({ type: 'paused' });
    } else if (m.cmd === 'exit') process.exit(0);
  } catch (error) {
    send({ type: 'error', message: String(error?.stack ?? error) });
  }
});
send({ type: 'alive' });
