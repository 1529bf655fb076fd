import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@gl-vcci/breaker-core';
import { type TestRegistry, testRegistry } from '@gl-vcci/breaker-core/testing';
import { SENDGRID_ROUTE, type SendGridSimulator, startSendGridSimulator } from '@gl-vcci/upstreams/sendgrid';
import { createEmailClient } from '../src/client.js';
import type { EmailClient, EmailClientOptions, EmailMessage, EmailQueueOptions } from '../src/types.js';

export { samples, sampleValue } from '@gl-vcci/breaker-core/testing';
export { SENDGRID_ROUTE };

/** Looks like a real key, so a leak is found by a plain substring search. */
export const API_KEY = 'SG.TESTSECRET-sendgrid.0123456789abcdef';

/**
 * The `email_service.sendgrid` block the tests run with: a count window so the circuit opens after
 * two failures, 30 s open (moved past with the ManualClock), a 2 s deadline, the queue on, 3
 * attempts before a dead letter, a 60 s claim lease.
 */
export const EMAIL_CONFIG = `
email_service:
  sendgrid:
    window_calls: 10
    fail_max: 2
    timeout_duration: 30
    call_timeout: 2
    queue_enabled: true
    max_attempts: 3
    claim_lease: 60
`;

export const OPEN_DURATION_MS = 30_000;
export const LEASE_MS = 60_000;
/** The queue's test backoff: 1 s, then 2 s, 4 s … */
export const BASE_DELAY_MS = 1_000;

export const MAIL: EmailMessage = {
  to: 'supplier@example.com',
  from: 'reports@gl-vcci.example',
  subject: 'Scope 3 data request',
  text: 'CONFIDENTIAL-BODY please send your 2025 figures',
};

export const mail = (n: number, extra: Partial<EmailMessage> = {}): EmailMessage => ({
  ...MAIL,
  subject: `request ${n}`,
  id: `mail-${n}`,
  ...extra,
});

export interface Harness extends TestRegistry {
  client: EmailClient;
  sim: SendGridSimulator;
  dir: string;
  /** Another client on the same queue folder (its own registry), made on demand. */
  second(): EmailClient;
  close(): Promise<void>;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'gl-vcci-email-'));
}

export async function harness(
  setup: { queue?: EmailQueueOptions; logger?: Logger; config?: string; options?: Partial<EmailClientOptions> } = {},
): Promise<Harness> {
  const t = testRegistry({ config: setup.config ?? EMAIL_CONFIG, ...(setup.logger ? { logger: setup.logger } : {}) });
  const sim = await startSendGridSimulator({ apiKey: API_KEY });
  const root = tempDir();
  const dir = join(root, 'queue');
  const queue = { dir, drainIntervalMs: 0, baseDelayMs: BASE_DELAY_MS, ...setup.queue };
  const client = createEmailClient({
    registry: t.registry,
    sendgrid: { apiKey: API_KEY, baseUrl: sim.url },
    queue,
    ...setup.options,
  });
  const others: Array<{ client: EmailClient; close: () => void }> = [];
  return {
    ...t,
    client,
    sim,
    dir,
    second() {
      const o = testRegistry({ config: setup.config ?? EMAIL_CONFIG });
      o.clock.advance(t.clock.now() - o.clock.now());
      const c = createEmailClient({ registry: o.registry, sendgrid: { apiKey: API_KEY, baseUrl: sim.url }, queue });
      others.push({ client: c, close: () => o.registry.close() });
      return c;
    },
    async close() {
      await client.close();
      for (const o of others) {
        await o.client.close();
        o.close();
      }
      await sim.close();
      t.registry.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
