import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const FORBIDDEN = [
  /^openai$/,
  /^@anthropic-ai\//,
  /^pg(-.*)?$/,
  /^redis$/,
  /^@redis\//,
  /^ioredis$/,
  /^@sendgrid\//,
  /^nodemailer$/,
  /sap|oracle|workday|odata/i,
  /^@gl-vcci\/(llm|erp|email|db|cache)-client$/,
];

function dependencies(path: string): string[] {
  const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  return Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies });
}

describe('package.json', () => {
  it('pulls in no LLM, ERP, e-mail, pg or redis package, directly or through breaker-core', () => {
    const deps = [...dependencies('../package.json'), ...dependencies('../../breaker-core/package.json')];
    expect(deps.filter((d) => FORBIDDEN.some((f) => f.test(d)))).toEqual([]);
    expect(dependencies('../package.json').sort()).toEqual(
      ['@gl-vcci/breaker-core', 'axios', 'lru-cache', 'prom-client', 'yaml', 'zod'].sort(),
    );
  });
});
