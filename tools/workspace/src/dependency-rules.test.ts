import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The rules of ARCHITECTURE.md, checked for every published package under libs/: arrows point
// down (apps -> clients -> breaker-core), a client brings in only its own service SDK, and
// breaker-core none. A new client is checked as soon as its folder exists.

const LIBS = fileURLToPath(new URL('../../../libs/', import.meta.url));

/** Each client's own service SDKs; nobody else may depend on or import them. */
const SDKS: Record<string, readonly string[]> = {
  'factor-client': ['axios'],
  'erp-client': ['axios'],
  'llm-client': ['@anthropic-ai/sdk', 'openai'],
  'email-client': ['@sendgrid/mail', '@sendgrid/client'],
  'db-client': ['pg'],
  'cache-client': ['redis'],
};
const ALL_SDKS = [...new Set(Object.values(SDKS).flat()), 'ioredis', 'nodemailer', 'pg-pool'];
const isSdk = (name: string) => ALL_SDKS.includes(name) || name.startsWith('@redis/');
const isClient = (name: string) => /^@gl-vcci\/[a-z-]+-client$/.test(name);

interface Lib {
  folder: string;
  name: string;
  dependencies: string[];
  peers: string[];
  /** Every package a non-test source file imports, with the file. */
  imports: Array<{ file: string; specifier: string }>;
}

const STATIC_IMPORT = /^\s*(?:import|export)\s[^;]*?\bfrom\s*'([^']+)'/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*'([^']+)'\s*\)/g;

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function readLib(folder: string): Lib {
  const root = join(LIBS, folder);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name: string;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  const imports = sources(join(root, 'src')).flatMap((path) => {
    const text = readFileSync(path, 'utf8');
    const found = [...text.matchAll(STATIC_IMPORT), ...text.matchAll(DYNAMIC_IMPORT)];
    return found.map((m) => ({ file: relative(root, path), specifier: m[1]! }));
  });
  return {
    folder,
    name: pkg.name,
    dependencies: Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }),
    peers: Object.keys(pkg.peerDependencies ?? {}),
    imports,
  };
}

const libs = readdirSync(LIBS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => readLib(entry.name));
const clients = libs.filter((lib) => lib.folder.endsWith('-client'));
const core = libs.find((lib) => lib.folder === 'breaker-core')!;

describe('breaker-core', () => {
  it('depends on and imports no service SDK and no client', () => {
    const named = [...core.dependencies, ...core.peers, ...core.imports.map((i) => packageOf(i.specifier))];
    expect(named.filter((name) => isSdk(name) || isClient(name))).toEqual([]);
  });

  it('takes prom-client as a peer, so an application has one metrics registry', () => {
    expect(core.peers).toContain('prom-client');
    expect(core.dependencies).not.toContain('prom-client');
  });
});

describe.each(clients.map((lib) => [lib.folder, lib] as const))('%s', (folder, lib) => {
  const own = SDKS[folder] ?? [];

  it('depends on no other client and no SDK but its own', () => {
    const named = [...lib.dependencies, ...lib.peers];
    expect(named.filter((name) => isClient(name) || (isSdk(name) && !own.includes(name)))).toEqual([]);
  });

  it('takes breaker-core and prom-client as peers, so errors and metrics are shared', () => {
    expect(lib.peers).toEqual(expect.arrayContaining(['@gl-vcci/breaker-core', 'prom-client']));
    expect(lib.dependencies).not.toContain('@gl-vcci/breaker-core');
  });

  it('imports no other client, no SDK but its own, and nothing outside its folder', () => {
    const wrong = lib.imports.filter(({ specifier }) => {
      if (specifier.startsWith('.')) return specifier.startsWith('../../');
      const name = packageOf(specifier);
      return isClient(name) || (isSdk(name) && !own.includes(name));
    });
    expect(wrong).toEqual([]);
  });

  it('declares every package its sources import', () => {
    const declared = new Set([...lib.dependencies, ...lib.peers]);
    const undeclared = lib.imports.filter(({ specifier }) => {
      if (specifier.startsWith('.') || specifier.startsWith('node:')) return false;
      const name = packageOf(specifier);
      return !declared.has(name) && !builtinModules.includes(name);
    });
    expect(undeclared).toEqual([]);
  });
});

/** Packages that extend breaker-core with a service of their own (not clients), and that service's SDKs. */
const EXTENSIONS: Record<string, readonly string[]> = {
  'breaker-sync-redis': ['redis'],
};
const extensions = libs.filter((lib) => lib !== core && !lib.folder.endsWith('-client'));

describe.each(extensions.map((lib) => [lib.folder, lib] as const))('%s', (folder, lib) => {
  const own = EXTENSIONS[folder] ?? [];

  it('is a known extension of breaker-core, with its own SDKs listed here', () => {
    expect(Object.keys(EXTENSIONS)).toContain(folder);
  });

  it('depends on and imports no client and no SDK but its own, and nothing outside its folder', () => {
    const named = [...lib.dependencies, ...lib.peers, ...lib.imports.map((i) => packageOf(i.specifier))];
    expect(named.filter((name) => isClient(name) || (isSdk(name) && !own.includes(name)))).toEqual([]);
    expect(lib.imports.filter(({ specifier }) => specifier.startsWith('../../'))).toEqual([]);
  });

  it('takes breaker-core and prom-client as peers, and declares every package its sources import', () => {
    expect(lib.peers).toEqual(expect.arrayContaining(['@gl-vcci/breaker-core', 'prom-client']));
    const declared = new Set([...lib.dependencies, ...lib.peers]);
    const undeclared = lib.imports.filter(({ specifier }) => {
      if (specifier.startsWith('.') || specifier.startsWith('node:')) return false;
      const name = packageOf(specifier);
      return !declared.has(name) && !builtinModules.includes(name);
    });
    expect(undeclared).toEqual([]);
  });
});
