import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@gl-vcci/breaker-core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, harness, mail } from '../test/support.js';
import type { Priority } from './outbox/outbox.js';

// The delivery guarantee under crashes: 1 000 queued mails, a drainer process SIGKILLed at random
// moments while it sends them (several rounds), then a fresh drain. Counted by the simulator,
// per message id (custom_args.outbox_id). The figures are printed for the README's table.

const CHILD = fileURLToPath(new URL('../test/drain-child.mjs', import.meta.url));
const MAILS = 1_000;
const ROUNDS = 4;
const CHILD_LEASE_MS = 120_000;
const PRIORITIES: Priority[] = ['high', 'normal', 'low'];

/** The ids in claimed/ right now: the mails a killed drainer had in flight. */
function claimedIds(dir: string): string[] {
  return readdirSync(join(dir, 'claimed'))
    .filter((n) => n.endsWith('.json'))
    .map((n) => (JSON.parse(readFileSync(join(dir, 'claimed', n), 'utf8')) as { id: string }).id);
}

let h: Harness | undefined;
afterAll(async () => {
  await h?.close();
});

describe('a drainer killed with SIGKILL while draining', () => {
  it('loses no mail, and duplicates only mails in flight at a kill', async () => {
    h = await harness({ queue: { concurrency: 4 } });
    const breaker = h.registry.get('email_service.sendgrid')!;
    breaker.forceOpen();
    for (let n = 0; n < MAILS; n++) {
      const result = await h.client.send(mail(n, { priority: PRIORITIES[n % 3]! }));
      expect(result.status).toBe('queued');
    }
    expect((await h.client.queueStats()).depth).toEqual({ high: 334, normal: 333, low: 333 });
    // Nothing in this process drains while the children do (closing also stops the drain on recovery).
    await h.client.close();
    breaker.reset();

    const inFlight = new Set<string>();
    const perRound: string[][] = [];
    const rounds: Array<{ round: number; sentBeforeKill: number; inFlightAtKill: number; duplicated?: number }> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const before = h.sim.accepted.length;
      // A random moment: after 20 to 170 more mails went out.
      const target = before + 20 + Math.floor(Math.random() * 150);
      const child = spawn(process.execPath, [CHILD, h.dir, h.sim.url, String(CHILD_LEASE_MS)], {
        stdio: 'ignore',
        env: { ...process.env, SENDGRID_API_KEY: API_KEY },
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await waitFor(() => h!.sim.accepted.length >= target, `${target} mails accepted`, 20_000);
      child.kill('SIGKILL');
      await exited;
      // Claims left by this kill (those of earlier kills are still there: their leases have not run out).
      const claimed = claimedIds(h.dir).filter((id) => !inFlight.has(id));
      for (const id of claimed) inFlight.add(id);
      perRound.push(claimed);
      rounds.push({ round, sentBeforeKill: h.sim.accepted.length - before, inFlightAtKill: claimed.length });
    }

    // The fresh drain, by a new client, after every lease of the killed drainers has run out.
    h.clock.advance(Date.now() + CHILD_LEASE_MS + 1 - h.clock.now());
    const fresh = h.second();
    const before = h.sim.accepted.length;
    const report = await fresh.processQueue();
    expect(report.stopped).toBeUndefined();

    const counts = h.sim.deliveryCounts();
    const lost = Array.from({ length: MAILS }, (_, n) => `mail-${n}`).filter((id) => !counts.has(id));
    const duplicated = [...counts].filter(([, c]) => c > 1).map(([id]) => id);
    for (const [i, ids] of perRound.entries()) rounds[i]!.duplicated = ids.filter((id) => counts.get(id)! > 1).length;
    const figures = {
      mails: MAILS,
      kills: ROUNDS,
      rounds,
      freshDrainSent: h.sim.accepted.length - before,
      delivered: counts.size,
      sends: h.sim.accepted.length,
      lost: lost.length,
      duplicated: duplicated.length,
      inFlightAtKills: inFlight.size,
    };
    console.log(`crash test figures: ${JSON.stringify(figures)}`);

    expect(lost).toEqual([]);
    expect(duplicated.filter((id) => !inFlight.has(id))).toEqual([]);
    expect(h.sim.accepted.length).toBe(MAILS + duplicated.length);
    expect(await fresh.queueStats()).toMatchObject({ depth: { high: 0, normal: 0, low: 0 }, deadLetters: 0 });
  });
});
