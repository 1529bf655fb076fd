import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BreakerRegistry, loadConfig } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { createEmailClient } from '@gl-vcci/email-client';
import { describe, expect, it } from 'vitest';

// config/circuit_breaker_config.yaml as email-client resolves it, environment by environment, on a
// strict registry: a key in its block that neither breaker-core nor the client reads fails here.
// Nothing is sent and the queue folder is not created (the outbox opens it on first use).

const SHIPPED = fileURLToPath(new URL('../../../config/circuit_breaker_config.yaml', import.meta.url));
const ENVIRONMENTS = ['development', 'staging', 'production'] as const;

describe.each(ENVIRONMENTS)('the shipped config in %s', (environment) => {
  it('gives email-client its queue folder, the queue on, a 10 s deadline and 5 minutes open', async () => {
    const config = loadConfig(SHIPPED, { environment });
    const registry = new BreakerRegistry({ config, metrics: false, logger: silentLogger(), strictConfig: true });
    const email = createEmailClient({ registry, sendgrid: { apiKey: 'SG.k', baseUrl: 'http://127.0.0.1:9' } });
    expect(email.status().queue).toEqual({
      enabled: true,
      dir: environment === 'production' ? '/var/lib/gl-vcci/email_queue' : resolve('./data/email_queue'),
    });
    expect(registry.get('email_service.sendgrid')!.config).toMatchObject({
      callTimeoutMs: 10_000,
      openDurationMs: 300_000,
      maxOpenDurationMs: 600_000,
    });
    await email.close();
    registry.close();
  });
});
