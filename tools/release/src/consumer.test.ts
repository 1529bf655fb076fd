import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { typecheckConsumer } from './consumer.js';
import { CLIENTS, ROOT } from './workspace.js';

// The consumer file of each published package, typechecked against the workspace's builds (the
// same check the smoke test runs against the packages installed from a registry): strict,
// skipLibCheck false, node16 and bundler resolution. The folder sits under node_modules/.cache so
// `@gl-vcci/*`, typescript and @types/node resolve as a consumer's would.

const TSC = join(ROOT, 'node_modules/.bin/tsc');

describe('a consumer of every package', () => {
  it(`typechecks its README-style usage of ${CLIENTS.join(', ')} (strict, node16 and bundler, skipLibCheck false)`, async () => {
    const dir = join(ROOT, 'node_modules/.cache/consumer-check');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    try {
      await typecheckConsumer(dir, CLIENTS, TSC);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000); // one tsc run per resolution over every package's declarations
});
