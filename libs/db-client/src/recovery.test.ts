import { readFileSync } from 'node:fs';
import { capturingLogger, waitFor } from '@gl-vcci/breaker-core/testing';
import { type PostgresServer, startPostgres } from '@gl-vcci/upstreams/postgres-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, rejectionOf } from '../test/support.js';

const FAIL_MAX = 3;
const OPEN_MS = 60_000;
const CHECK_MS = 500;
const breaker = { failMax: FAIL_MAX, slidingWindow: { kind: 'count', size: 10 }, openDurationMs: OPEN_MS } as const;

describe('the recovery signal (issue 11 #8)', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('a server back while the circuit is open lets trials through at once, long before the open duration ends', async () => {
    const {
      db,
      clock,
      breaker: circuit,
    } = harness({ connectionString: server.url, breaker, recoveryCheckMs: CHECK_MS });
    const transitions: string[] = [];
    circuit.onStateChange((change) => transitions.push(`${change.from}->${change.to} (${change.reason})`));
    await db.query('SELECT 1');
    await server.kill();
    for (let i = 0; i < FAIL_MAX; i++) await rejectionOf(db.query('SELECT 1'));
    expect(circuit.state).toBe('open');

    await server.start();
    clock.advance(CHECK_MS); // one check interval: the open duration is 120 times longer
    await waitFor(() => circuit.state === 'half_open', 'the recovery check to reach the server');
    expect((await db.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    expect(circuit.state).toBe('closed');
    expect(transitions.map((t) => t.split(' ')[0])).toEqual(['closed->open', 'open->half_open', 'half_open->closed']);
    expect(transitions[1]).toContain('recovery_signal');
  });

  it('a quick restart under the shipped config costs one recovery check (1 s), not timeout_duration (15 s)', async () => {
    const config = readFileSync(new URL('../../../config/circuit_breaker_config.yaml', import.meta.url), 'utf8');
    const { db, clock, breaker: circuit } = harness({ config, connectionString: server.url });
    expect(circuit.config).toMatchObject({ openDurationMs: 15_000, failMax: 10, successThreshold: 2 });
    await db.query('SELECT 1');
    const opened = clock.now();
    await server.kill();
    for (let i = 0; i < 10; i++) await rejectionOf(db.query('SELECT 1'));
    expect(circuit.state).toBe('open');
    await server.start();
    clock.advance(1_000); // the default recoveryCheckMs
    await waitFor(() => circuit.state === 'half_open', 'the recovery check to reach the server');
    await db.query('SELECT 1');
    await db.query('SELECT 1');
    expect(circuit.state).toBe('closed');
    expect(clock.now() - opened).toBe(1_000);
  });

  it('a check that fails (server still down) leaves the circuit open and checks again an interval later', async () => {
    const { logger, lines } = capturingLogger();
    const {
      db,
      clock,
      breaker: circuit,
    } = harness({
      connectionString: server.url,
      breaker,
      recoveryCheckMs: CHECK_MS,
      logger,
    });
    const failedChecks = () => lines.filter((l) => String(l.msg).startsWith('recovery check failed')).length;
    await db.query('SELECT 1');
    await server.kill();
    try {
      for (let i = 0; i < FAIL_MAX; i++) await rejectionOf(db.query('SELECT 1'));
      for (let i = 1; i <= 2; i++) {
        clock.advance(CHECK_MS);
        await waitFor(() => failedChecks() === i, `failed check ${i}`);
        expect(circuit.state).toBe('open');
      }
    } finally {
      await server.start();
    }
  });

  it('recoveryCheckMs: false waits out the open duration', async () => {
    const { db, clock, breaker: circuit } = harness({ connectionString: server.url, breaker, recoveryCheckMs: false });
    await db.query('SELECT 1');
    await server.kill();
    for (let i = 0; i < FAIL_MAX; i++) await rejectionOf(db.query('SELECT 1'));
    await server.start();
    clock.advance(CHECK_MS * 10);
    expect(circuit.state).toBe('open');
  });
});
