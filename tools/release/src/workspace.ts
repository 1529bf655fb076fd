import { type ExecFileSyncOptions, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tools/release/src or tools/release/dist → ../../..). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The published libs, by Nx project name (= folder under libs/); everything else is private. */
export const PUBLISHED = [
  'breaker-core',
  'factor-client',
  'erp-client',
  'llm-client',
  'db-client',
  'cache-client',
  'email-client',
  'breaker-sync-redis',
] as const;
export type PublishedLib = (typeof PUBLISHED)[number];
export const CLIENTS = PUBLISHED.filter((lib) => lib !== 'breaker-core');

/** The platform's private registry: the only place the @gl-vcci scope is ever fetched from or published to. */
export const PRIVATE_REGISTRY = 'https://npm.gl-vcci.internal/';
/** Where the source lives; READMEs link here, absolutely, so they read right on a registry page. */
export const REPOSITORY = 'https://github.com/gl-vcci/resilient-clients';

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  engines?: Record<string, string>;
  sideEffects?: boolean;
  files?: string[];
  repository?: { type?: string; url?: string; directory?: string };
  publishConfig?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

export const libDir = (lib: string, root = ROOT) => join(root, 'libs', lib);

/** Nx without daemon, cloud or prompts. */
export const NX_ENV = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', CI: 'true' };

/**
 * npm asks the registry even in `npm publish --dry-run`, and retries for ~70 s when the private
 * registry does not answer (it never does here): offline, and no retries should it try anyway.
 */
export const OFFLINE_NPM_ENV = {
  npm_config_offline: 'true',
  npm_config_fetch_retries: '0',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
};

export function run(command: string, args: readonly string[], options: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      ...options,
      env: { ...process.env, ...options.env },
    }) as string;
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} exited with ${e.status}\n--- stdout\n${e.stdout ?? ''}\n--- stderr\n${e.stderr ?? ''}`,
    );
  }
}

/** The workspace's own binaries (nx, attw, tsc, verdaccio), by absolute path. */
export const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
