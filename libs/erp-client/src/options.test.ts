import { isConfigError } from '@gl-vcci/breaker-core';
import { testRegistry } from '@gl-vcci/breaker-core/testing';
import { describe, expect, it } from 'vitest';
import { createErpClient } from './client.js';

const basic = { type: 'basic' as const, username: 'u', password: 'p4ssw0rd-s3cret' };

function configError(options: unknown, config?: string): Error {
  const { registry } = testRegistry(config === undefined ? {} : { config });
  try {
    createErpClient(options as never);
  } catch (error) {
    registry.close();
    if (!isConfigError(error)) throw error;
    return error;
  }
  registry.close();
  throw new Error('no ConfigError');
}

describe('createErpClient options', () => {
  it('names every bad field at once, never echoing a secret or URL', () => {
    const { registry } = testRegistry();
    const error = configError({
      registry,
      systems: {
        sap: { baseUrl: 'ftp://user:pw@host', auth: { type: 'basic', username: 'u' } },
        oracle: { baseUrl: 'https://oracle.example', auth: basic, pageSize: 1000 },
        workday: { baseUrl: 'https://wd.example', auth: basic, tenant: 'a/b' },
        peoplesoft: {},
      },
      retry: { maxAttempts: 0 },
    });
    expect(error.message).toContain(
      'systems.sap.baseUrl: expected a http:// or https:// URL, got a ftp:// URL (not shown)',
    );
    expect(error.message).toContain('systems.sap.auth.password');
    expect(error.message).toContain('systems.workday.tenant');
    expect(error.message).toContain('systems.workday.purchaseOrderReport');
    expect(error.message).toContain("systems.oracle.pageSize: expected at most 500 (oracle's page limit), got 1000");
    expect(error.message).toContain('peoplesoft');
    expect(error.message).toContain('retry.maxAttempts');
    expect(error.message).not.toContain('pw@host');
    registry.close();
  });

  it.each([
    ['max_queue: -1', 'erp_connectors.sap.max_queue: expected a non-negative integer, got -1'],
    [
      'cache_ttl: 600\n    stale_max_age: 60',
      'erp_connectors.sap.stale_max_age: expected at least the cache TTL (600000 ms), got 60000 ms',
    ],
  ])('reports the system block’s %s with the options', (block, message) => {
    const { registry } = testRegistry({ config: `erp_connectors:\n  sap:\n    ${block}\n` });
    const error = configError({
      registry,
      systems: { sap: { baseUrl: 'https://s4.example', auth: basic, pageSize: 0 } },
    });
    expect(error.message).toContain(message);
    expect(error.message).toContain('systems.sap.pageSize');
    registry.close();
  });

  it('refuses `local` beside `cache`, and no system at all', () => {
    const { registry } = testRegistry();
    const store = { get: async () => undefined, set: async () => {} };
    const error = configError({ registry, systems: {}, cache: store, local: { maxEntries: 1 } });
    expect(error.message).toContain('systems: expected at least one system');
    expect(error.message).toContain('local: expected nothing when `cache` is given');
    registry.close();
  });
});
