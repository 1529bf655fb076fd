import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, it } from 'vitest';
import {
  bin,
  libDir,
  OFFLINE_NPM_ENV,
  PRIVATE_REGISTRY,
  PUBLISHED,
  REPOSITORY,
  readManifest,
  run,
} from './workspace.js';

// Package hygiene of every published lib, checked on what `npm pack` would ship (the libs are built
// first: this project's test target depends on their build). publint and @arethetypeswrong/cli
// (`--profile esm-only`: the libs are ESM only; require() works on Node >= 20.19) come from npm.

function packedFiles(dir: string): string[] {
  const out = run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, env: OFFLINE_NPM_ENV });
  const [report] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return report!.files.map((file) => file.path).sort();
}

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return declarationFiles(path);
    return entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const packageOf = (specifier: string) => {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
};
const typesPackageOf = (name: string) =>
  name.startsWith('@') ? `@types/${name.slice(1).replace('/', '__')}` : `@types/${name}`;

describe.each(PUBLISHED.map((lib) => [lib] as const))('%s', (lib) => {
  const dir = libDir(lib);
  const pkg = readManifest(dir);

  it('says where it comes from, what it needs and that it has no side effects', () => {
    expect(pkg.repository).toEqual({
      type: 'git',
      url: `git+${REPOSITORY}.git`,
      directory: `libs/${lib}`,
    });
    expect(pkg.license).toBeTruthy();
    expect(pkg.engines?.node).toBe('>=20.19');
    expect(pkg.sideEffects).toBe(false);
  });

  it('is published to the private registry only, never to the public one (dependency confusion)', () => {
    expect(pkg.name).toMatch(/^@gl-vcci\//);
    expect(pkg.publishConfig).toEqual({ registry: PRIVATE_REGISTRY, '@gl-vcci:registry': PRIVATE_REGISTRY });
    // What npm itself says it would do (the workspace's .npmrc, if any, and the CLI's defaults included).
    const { stdout, stderr } = spawnSync('npm', ['publish', '--dry-run', '--ignore-scripts'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ...OFFLINE_NPM_ENV },
    });
    expect(stderr).toContain(`Publishing to ${PRIVATE_REGISTRY} `);
    expect(stderr).not.toContain('registry.npmjs.org');
    expect(stdout).toContain(`+ ${pkg.name}@${pkg.version}`);
  });

  it('ships its build, README and CHANGELOG, and no build info, tests, maps or sources', () => {
    const files = packedFiles(dir);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'CHANGELOG.md', 'dist/index.js']));
    expect(files).toContain('dist/index.d.ts');
    expect(files.filter((file) => /\.tsbuildinfo$|\.test\.|\.map$|^src\/|^test\//.test(file))).toEqual([]);
    if (lib === 'factor-client') expect(files).toContain('data/factor-defaults.yaml');
  });

  it('declares every package its public types import, so a consumer compiles without extra installs', () => {
    const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }));
    const missing: string[] = [];
    for (const file of declarationFiles(join(dir, 'dist'))) {
      const text = readFileSync(file, 'utf8');
      const specifiers = [
        ...text.matchAll(/\bfrom\s+'([^']+)'/g),
        ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
        ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
      ].map((m) => m[1]!);
      for (const specifier of specifiers) {
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        const name = packageOf(specifier);
        if (builtinModules.includes(name)) continue;
        if (!declared.has(name)) missing.push(`${relative(dir, file)}: ${name}`);
        else if (!hasOwnTypes(dir, name) && !declared.has(typesPackageOf(name))) {
          missing.push(`${relative(dir, file)}: ${typesPackageOf(name)} (types of ${name})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('has a README that reads right on a registry page: absolute links, the registry and the peers to install', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    expect(targets.filter((target) => !/^(https:\/\/|#)/.test(target))).toEqual([]);
    const github = targets.filter((target) => target.startsWith('https://github.com/'));
    expect(
      github.filter((target) => !target.startsWith(`${REPOSITORY}/`) && !target.startsWith(`${REPOSITORY}#`)),
    ).toEqual([]);
    expect(readme).not.toMatch(/shared\/notes|ARCHITECTURE\.md|\.\.\//);
    const install = readme.slice(
      readme.indexOf('## Install'),
      readme.indexOf('\n## ', readme.indexOf('## Install') + 1),
    );
    expect(install).toContain(`@gl-vcci:registry=${PRIVATE_REGISTRY}`);
    // The peers, named on the install line: npm installs peers, but a reader should see them.
    const line =
      lib === 'breaker-core'
        ? `npm install ${pkg.name} prom-client`
        : `npm install ${pkg.name} @gl-vcci/breaker-core prom-client`;
    expect(Object.keys(pkg.peerDependencies ?? {}).sort()).toEqual(
      lib === 'breaker-core' ? ['prom-client'] : ['@gl-vcci/breaker-core', 'prom-client'],
    );
    expect(install).toContain(line);
  });

  it('passes publint (strict)', async () => {
    const { messages, pkg: json } = await publint({ pkgDir: dir, strict: true, pack: 'npm' });
    expect(messages.map((message) => `${message.type}: ${formatMessage(message, json)}`)).toEqual([]);
  });

  it('passes @arethetypeswrong/cli --profile esm-only', () => {
    // Exits non-zero on any problem; the table is in the error message.
    expect(() =>
      run(bin('attw'), ['--pack', '.', '--profile', 'esm-only', '--format', 'ascii'], { cwd: dir }),
    ).not.toThrow();
  });
});

/** True when the package itself ships types (a `types`/`typings` field or `types` in an export condition). */
function hasOwnTypes(dir: string, name: string): boolean {
  const manifest = JSON.parse(readFileSync(require_resolve(dir, name), 'utf8')) as Record<string, unknown>;
  return Boolean(manifest.types || manifest.typings || JSON.stringify(manifest.exports ?? {}).includes('"types"'));
}

/** The package.json of a dependency as Node would find it from the lib's folder. */
function require_resolve(dir: string, name: string): string {
  for (let at = dir; ; at = join(at, '..')) {
    const candidate = join(at, 'node_modules', name, 'package.json');
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      if (at === '/') throw new Error(`${name} is not installed for ${dir}`);
    }
  }
}
