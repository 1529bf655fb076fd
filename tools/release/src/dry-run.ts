import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { bin, NX_ENV, OFFLINE_NPM_ENV, PUBLISHED, ROOT, run } from './workspace.js';

export interface ReleasePlan {
  /** The arguments given to `nx release`. */
  args: string[];
  /** Planned version per Nx project, in the order Nx versions them. */
  versions: Record<string, string>;
  /** Manifests and changelogs the release would write. */
  files: string[];
  output: string;
}

/** True once `nx release` has tagged a published lib (`@gl-vcci/<name>@<version>`). */
export function hasReleaseTags(root = ROOT): boolean {
  const tags = run('git', ['tag', '--list', '@gl-vcci/*@*'], { cwd: root }).trim();
  return PUBLISHED.some((lib) => tags.split('\n').some((tag) => tag.startsWith(`@gl-vcci/${lib}@`)));
}

/**
 * What `nx release` would do, without writing anything: before the first release (no tags yet),
 * the documented first release `nx release 0.1.0 --first-release`; after it, the versions that
 * the conventional commits since each package's tag call for.
 */
export function planRelease(root = ROOT, extraArgs: readonly string[] = []): ReleasePlan {
  const first = hasReleaseTags(root) ? [] : ['0.1.0', '--first-release'];
  const args = ['release', ...first, '--dry-run', '--skip-publish', ...extraArgs];
  const output = run(bin('nx'), args, { cwd: root, env: { ...NX_ENV, ...OFFLINE_NPM_ENV, FORCE_COLOR: '0' } });
  return { args, versions: parseVersions(output), files: parseFiles(output), output };
}

export function parseVersions(output: string): Record<string, string> {
  const versions: Record<string, string> = {};
  // "factor-client ✍️  New version 0.1.1 written to manifest: libs/factor-client/package.json"
  for (const m of output.matchAll(/^(\S+) .*New version (\S+) written to manifest: (\S+)$/gm)) {
    versions[m[1]!] = m[2]!;
  }
  return versions;
}

export function parseFiles(output: string): string[] {
  return [...new Set([...output.matchAll(/^(?:UPDATE|CREATE) (\S+)/gm)].map((m) => m[1]!))];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // `npm run release:dry-run`: the whole dry run, publish step included (npm publish --dry-run).
  const first = hasReleaseTags() ? [] : ['0.1.0', '--first-release'];
  execFileSync(bin('nx'), ['release', ...first, '--dry-run', '--yes', ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, ...NX_ENV, ...OFFLINE_NPM_ENV },
  });
}
