import { isConfigError } from '@gl-vcci/breaker-core';
import { testRegistry } from '@gl-vcci/breaker-core/testing';
import { describe, expect, it } from 'vitest';
import { API_KEY } from '../test/support.js';
import { resolveOptions } from './options.js';

const config = `
email_service:
  sendgrid:
    queue_enabled: false
    queue_dir: /var/spool/mail-out
    max_attempts: 4
    claim_lease: 90
    drain_interval: 30
`;

describe('options', () => {
  it('reads queue_enabled, queue_dir, max_attempts, claim_lease and drain_interval from the file, in ms', () => {
    const { registry } = testRegistry({ config, strictConfig: true });
    const o = resolveOptions({ registry, sendgrid: { apiKey: API_KEY } });
    expect(o.queue).toMatchObject({
      enabled: false,
      dir: '/var/spool/mail-out',
      maxAttempts: 4,
      leaseMs: 90_000,
      drainIntervalMs: 30_000,
    });
    expect(o.baseUrl).toBe('https://api.sendgrid.com/');
    registry.close();
  });

  it('an option beats the file', () => {
    const { registry } = testRegistry({ config });
    const o = resolveOptions({
      registry,
      sendgrid: { apiKey: API_KEY },
      queue: { enabled: true, dir: '/tmp/q', maxAttempts: 2 },
    });
    expect(o.queue).toMatchObject({ enabled: true, dir: '/tmp/q', maxAttempts: 2, leaseMs: 90_000 });
    registry.close();
  });

  it('refuses a claim lease that does not outlast the send deadline (a claim expiring mid-send means a double send)', () => {
    const { registry } = testRegistry({ config: 'email_service:\n  sendgrid:\n    call_timeout: 2\n' });
    expect(() => resolveOptions({ registry, sendgrid: { apiKey: API_KEY }, queue: { leaseMs: 100 } })).toThrow(
      "queue.leaseMs: expected more than the send's deadline (call_timeout, 2000 ms), got 100 ms",
    );
    registry.close();
  });

  it('names every bad option and file value in one ConfigError, never echoing the key', () => {
    const { registry } = testRegistry({ config: 'email_service:\n  sendgrid:\n    max_attempts: 0\n' });
    let error: unknown;
    try {
      resolveOptions({ registry, sendgrid: { apiKey: 42, baseUrl: 'ftp://x' }, queue: { concurrency: 0, bogus: 1 } });
    } catch (e) {
      error = e;
    }
    expect(isConfigError(error)).toBe(true);
    const paths = (error as { issues: Array<{ path: string }> }).issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'sendgrid.apiKey',
        'sendgrid.baseUrl',
        'queue.concurrency',
        'queue',
        'email_service.sendgrid.max_attempts',
      ]),
    );
    expect((error as Error).message).toMatch(/^createEmailClient: /);
    registry.close();
  });
});
