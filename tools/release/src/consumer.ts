import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

// A consumer's file per published package, typechecked strict with skipLibCheck false under both
// module resolutions: by the smoke test against the packages installed from the registry, and by
// `npm test` against the workspace's builds.

const exec = promisify(execFile);

export const RESOLUTIONS = ['node16', 'bundler'] as const;

/**
 * Writes a consumer file per package (`check-<lib>.ts`) and one tsconfig per resolution into
 * `dir`, and runs `tsc` once per resolution on them all; throws naming what failed.
 */
export async function typecheckConsumer(dir: string, libs: readonly string[], tsc: string): Promise<void> {
  const files = libs.map((lib) => {
    writeFileSync(join(dir, `check-${lib}.ts`), typecheckFile(lib));
    return `check-${lib}.ts`;
  });
  for (const resolution of RESOLUTIONS) {
    const config = {
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: 'es2022',
        lib: ['es2023'],
        types: ['node'],
        module: resolution === 'node16' ? 'node16' : 'esnext',
        moduleResolution: resolution,
      },
      files,
    };
    writeFileSync(join(dir, `tsconfig.${resolution}.json`), JSON.stringify(config, null, 2));
    try {
      await exec(tsc, ['-p', `tsconfig.${resolution}.json`], { cwd: dir });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      throw new Error(
        `${libs.join(', ')}: a consumer file does not typecheck under ${resolution}:\n${e.stdout}${e.stderr}`,
      );
    }
  }
}

export function typecheckFile(client: string): string {
  const registry = `import { BreakerRegistry } from '@gl-vcci/breaker-core';\nconst registry = new BreakerRegistry();\n`;
  const bodies: Record<string, string> = {
    'factor-client': `import { createFactorClient, isFactorRequestError, loadFactorDefaults } from '@gl-vcci/factor-client';
${registry}
export async function lookup(): Promise<number> {
  const factors = createFactorClient({ registry, sources: { epa: { baseUrl: 'http://127.0.0.1:1' } }, defaults: loadFactorDefaults() });
  try {
    const r = await factors.getFactor({ source: 'epa', activity: 'natural_gas', region: 'US', unit: 'kg CO2/mmBtu' });
    const citation: string = r.factorSource;
    return citation.length + r.value;
  } catch (error) {
    if (isFactorRequestError(error)) return -1;
    throw error;
  }
}
`,
    'llm-client': `import { createLlmClient, isLlmUnavailableError } from '@gl-vcci/llm-client';
${registry}
export async function ask(): Promise<string> {
  const llm = createLlmClient({ registry, providers: { claude: { apiKey: 'k' } } });
  try {
    const { text, usage } = await llm.generate({ prompt: 'x', maxTokens: 5 });
    return text + String(usage.inputTokens);
  } catch (error) {
    if (isLlmUnavailableError(error)) return '';
    throw error;
  }
}
`,
    'db-client': `import { createDbClient, isDbRequestError } from '@gl-vcci/db-client';
${registry}
export async function one(): Promise<number> {
  const db = createDbClient({ registry, connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  try {
    const result = await db.query<{ one: number }>('SELECT 1 AS one');
    const first: number | undefined = result.rows[0]?.one;
    return first ?? 0;
  } catch (error) {
    if (isDbRequestError(error)) return Number(error.sqlState);
    throw error;
  }
}
`,
    'cache-client': `import type { KeyValueStore } from '@gl-vcci/breaker-core/client';
import { createCacheClient, keyValueStore } from '@gl-vcci/cache-client';
${registry}
export async function read(): Promise<number | undefined> {
  const cache = createCacheClient({ registry, url: 'redis://127.0.0.1:6379' });
  const landed: 'redis' | 'local' = await cache.set('k', { n: 1 }, 1000);
  const hit = await cache.get<{ n: number }>('k');
  // The cache option of factor-client, llm-client and erp-client.
  const store: KeyValueStore<{ n: number }> = keyValueStore(cache);
  return landed === 'redis' ? (hit?.value.n ?? (await store.get('k'))?.n) : undefined;
}
`,
    'erp-client': `import { createErpClient, isErpUnavailableError, type Supplier } from '@gl-vcci/erp-client';
${registry}
export async function suppliers(): Promise<string[]> {
  const erp = createErpClient({
    registry,
    systems: { sap: { baseUrl: 'http://127.0.0.1:1', auth: { type: 'basic', username: 'u', password: 'p' } } },
  });
  try {
    const r = await erp.fetchSuppliers('sap', { nameStartsWith: 'Acme' });
    const first: Supplier | undefined = r.value[0];
    const source: 'live' | 'cache' | 'stale' = r.source;
    return [source, ...(first ? [first.name] : [])];
  } catch (error) {
    if (isErpUnavailableError(error)) return [];
    throw error;
  } finally {
    await erp.close();
  }
}
`,
    'breaker-sync-redis': `import { BreakerRegistry, CircuitOpenError } from '@gl-vcci/breaker-core';
import { RedisStateSync, type RedisStateSyncStatus } from '@gl-vcci/breaker-sync-redis';
export async function shared(): Promise<RedisStateSyncStatus> {
  const sync = new RedisStateSync({ url: 'redis://127.0.0.1:6379', adopt: { quorum: 2, withinMs: 30_000 }, circuits: { 'factor_broker.ecoinvent': { adopt: 'immediate' } } });
  const registry = new BreakerRegistry({ sync });
  try {
    await registry.breaker('factor_broker.ecoinvent').execute(async () => 1);
  } catch (error) {
    if (error instanceof CircuitOpenError) return sync.status();
    throw error;
  } finally {
    await sync.close();
  }
  return sync.status();
}
`,
    'email-client': `import { createEmailClient, isEmailArgumentError, type SendResult } from '@gl-vcci/email-client';
${registry}
export async function mail(): Promise<string | undefined> {
  const email = createEmailClient({ registry, sendgrid: { apiKey: 'SG.x' }, queue: { dir: '/tmp/outbox' } });
  try {
    const r: SendResult = await email.send({ to: 'a@b.example', from: 'c@d.example', subject: 's', text: 't', priority: 'high' });
    return r.status === 'sent' ? r.messageId : r.id;
  } catch (error) {
    if (isEmailArgumentError(error)) return undefined;
    throw error;
  } finally {
    await email.close();
  }
}
`,
  };
  return bodies[client]!;
}
