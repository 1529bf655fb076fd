import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVersions, planRelease } from './dry-run.js';
import { bin, type Manifest, NX_ENV, OFFLINE_NPM_ENV, PUBLISHED, ROOT, readManifest, run } from './workspace.js';

const nxJson = JSON.parse(readFileSync(join(ROOT, 'nx.json'), 'utf8')) as {
  release: {
    projects: string[];
    projectsRelationship: string;
    releaseTag: { pattern: string };
    changelog: { workspaceChangelog: unknown; projectChangelogs: unknown };
  };
};

describe('nx.json release', () => {
  it('releases the eight published libs independently, tagged @gl-vcci/<name>@<version>', () => {
    expect([...nxJson.release.projects].sort()).toEqual([...PUBLISHED].sort());
    expect(nxJson.release.projectsRelationship).toBe('independent');
    expect(nxJson.release.releaseTag.pattern).toBe('@gl-vcci/{projectName}@{version}');
  });

  it('writes a changelog per package and no root changelog', () => {
    expect(nxJson.release.changelog.workspaceChangelog).toBe(false);
    expect(nxJson.release.changelog.projectChangelogs).toBeTruthy();
  });
});

describe('the dry run of this repository', () => {
  it('plans a version for each published lib and none for a private package, writing no root changelog', () => {
    const plan = planRelease();
    expect(Object.keys(plan.versions).sort(), plan.output).toEqual([...PUBLISHED].sort());
    for (const version of Object.values(plan.versions)) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(plan.files.filter((file) => !file.startsWith('libs/'))).toEqual([]);
    expect(plan.output).not.toMatch(/tools\/|apps\//);
    // `nx release --dry-run` over the whole history: 43 s was seen on a loaded 2-core machine.
  }, 180_000);
});

// A throwaway git repository holding this workspace's release config, manifests and changelogs, with
// stub sources, so that real releases (commits, tags, manifests, changelogs) can be made and checked.
describe('releases from conventional commits', () => {
  let repo: string;
  const git = (...args: string[]) => run('git', args, { cwd: repo, env: GIT_ENV });
  const commit = (file: string, message: string) => {
    writeFileSync(join(repo, file), `export const changed = ${JSON.stringify(message)};\n`, { flag: 'a' });
    git('add', '-A');
    git('commit', '-q', '-m', message);
  };
  const release = (...args: string[]) =>
    run(bin('nx'), ['release', '--skip-publish', ...args], {
      cwd: repo,
      env: { ...NX_ENV, ...OFFLINE_NPM_ENV, ...GIT_ENV, FORCE_COLOR: '0' },
    });
  const manifest = (project: string): Manifest => readManifest(join(repo, project));
  const tags = () => git('tag', '--list').trim().split('\n').filter(Boolean).sort();

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'gl-vcci-release-'));
    const config = JSON.parse(readFileSync(join(ROOT, 'nx.json'), 'utf8'));
    // Differences from the real config: no `npm install --package-lock-only` (no lockfile here) and no
    // build before versioning (the sources here are stubs).
    config.release.version.versionActionsOptions = { skipLockFileUpdate: true };
    delete config.release.version.preVersionCommand;
    writeFileSync(join(repo, 'nx.json'), JSON.stringify(config, null, 2));
    cpSync(join(ROOT, 'package.json'), join(repo, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(repo, 'node_modules'), 'dir');
    writeFileSync(join(repo, '.gitignore'), 'node_modules\n.nx\n');
    for (const project of [...PUBLISHED.map((lib) => `libs/${lib}`), 'tools/bench', 'tools/workspace']) {
      mkdirSync(join(repo, project, 'src'), { recursive: true });
      cpSync(join(ROOT, project, 'package.json'), join(repo, project, 'package.json'));
      if (existsSync(join(ROOT, project, 'CHANGELOG.md'))) {
        cpSync(join(ROOT, project, 'CHANGELOG.md'), join(repo, project, 'CHANGELOG.md'));
      }
      writeFileSync(join(repo, project, 'src/index.ts'), 'export {};\n');
    }
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'chore: the workspace before its first release');
  });

  afterAll(() => {
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('first release: every published lib at 0.1.0, tagged, its hand-written changelog kept', () => {
    const output = release('0.1.0', '--first-release');
    expect(tags()).toEqual(PUBLISHED.map((lib) => `@gl-vcci/${lib}@0.1.0`).sort());
    expect(Object.keys(parseVersions(output)).sort()).toEqual([...PUBLISHED].sort());
    for (const lib of PUBLISHED) {
      expect(manifest(`libs/${lib}`).version).toBe('0.1.0');
      expect(readFileSync(join(repo, 'libs', lib, 'CHANGELOG.md'), 'utf8')).toBe(
        readFileSync(join(ROOT, 'libs', lib, 'CHANGELOG.md'), 'utf8'),
      );
    }
  });

  it('a fix in breaker-core releases it and every client (peer range moved), a private package never', () => {
    commit('libs/breaker-core/src/index.ts', 'fix(breaker-core): a fix');
    commit('tools/bench/src/index.ts', 'feat(bench): a private feature');
    const output = release();
    expect(parseVersions(output)).toEqual({
      'breaker-core': '0.1.1',
      'factor-client': '0.1.1',
      'erp-client': '0.1.1',
      'llm-client': '0.1.1',
      'db-client': '0.1.1',
      'cache-client': '0.1.1',
      'email-client': '0.1.1',
      'breaker-sync-redis': '0.1.1',
    });
    for (const client of PUBLISHED.filter((lib) => lib !== 'breaker-core')) {
      const pkg = manifest(`libs/${client}`);
      expect(pkg.peerDependencies?.['@gl-vcci/breaker-core']).toBe('^0.1.1');
      expect(pkg.devDependencies?.['@gl-vcci/breaker-core']).toBe('*');
      const changelog = readFileSync(join(repo, 'libs', client, 'CHANGELOG.md'), 'utf8');
      expect(changelog).toMatch(/^## 0\.1\.1 /);
      expect(changelog).toContain('Updated breaker-core to 0.1.1');
      expect(changelog).toContain('\n## 0.1.0\n');
    }
    const core = readFileSync(join(repo, 'libs/breaker-core/CHANGELOG.md'), 'utf8');
    expect(core).toMatch(/^## 0\.1\.1 [\s\S]*- \*\*breaker-core:\*\* a fix[\s\S]*\n## 0\.1\.0\n/);
    expect(core).not.toContain('private feature');
    expect(manifest('tools/bench').version).toBe('0.0.0');
    expect(tags().filter((tag) => !tag.startsWith('@gl-vcci/'))).toEqual([]);
    expect(existsSync(join(repo, 'CHANGELOG.md'))).toBe(false);
    expect(git('log', '-1', '--format=%s').trim()).toBe('chore(release): publish');
  });

  it('a breaking change in one client bumps its minor (0.x) and releases nothing else', () => {
    commit('libs/llm-client/src/index.ts', 'feat(llm-client)!: a breaking change');
    const output = release();
    expect(parseVersions(output)).toEqual({ 'llm-client': '0.2.0' });
    expect(tags()).toContain('@gl-vcci/llm-client@0.2.0');
    expect(manifest('libs/factor-client').version).toBe('0.1.1');
    expect(readFileSync(join(repo, 'libs/llm-client/CHANGELOG.md'), 'utf8')).toMatch(
      /^## 0\.2\.0 [\s\S]*⚠️ {2}Breaking Changes[\s\S]*a breaking change/,
    );
  });
});

const GIT_ENV = {
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'release test',
  GIT_AUTHOR_EMAIL: 'release-test@example.invalid',
  GIT_COMMITTER_NAME: 'release test',
  GIT_COMMITTER_EMAIL: 'release-test@example.invalid',
};
