import { fileURLToPath } from 'node:url';
import { BreakerRegistry, ConfigError, loadConfig } from '@gl-vcci/breaker-core';
import { capturingLogger, silentLogger } from '@gl-vcci/breaker-core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { harness, PROMPT } from '../test/support.js';
import { createLlmClient } from './client.js';
import { isLlmArgumentError, LlmArgumentError } from './errors.js';
import type { LlmClientOptions } from './types.js';

const registry = (yaml?: string) =>
  new BreakerRegistry({ config: yaml ? loadConfig(yaml) : undefined, metrics: false, logger: silentLogger() });
const URL = 'http://127.0.0.1:9';
const SHIPPED_CONFIG = fileURLToPath(
  new globalThis.URL('../../../config/circuit_breaker_config.yaml', import.meta.url),
);

function configError(options: unknown): ConfigError {
  try {
    createLlmClient(options as LlmClientOptions);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createLlmClient options', () => {
  it('names every bad field in one ConfigError', () => {
    const error = configError({
      registry: registry(),
      providers: { claude: { apiKey: 'k', baseURL: 'ftp://x', model: '' }, mistral: {} },
      cacheTtlMs: -1,
    });
    expect(error.message).toBe(
      'createLlmClient: providers.claude.baseURL: expected a http:// or https:// URL, got a ftp:// URL (not shown); providers.claude.model: expected a non-empty string, got ""; providers: Unrecognized key: "mistral"; cacheTtlMs: expected a positive integer, got -1',
    );
  });

  it('never echoes an API key, even an invalid one', () => {
    const error = configError({ registry: registry(), providers: { claude: { apiKey: 12345678 } } });
    expect(error.message).toBe('createLlmClient: providers.claude.apiKey: expected a non-empty string, got <hidden>');
  });

  it('reads keys from the environment, and names the variable when there is none', () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    expect(configError({ registry: registry(), providers: { claude: { baseURL: URL } } }).message).toBe(
      'createLlmClient: providers.claude.apiKey: expected a key, or ANTHROPIC_API_KEY in the environment',
    );
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-from-env');
    expect(() => createLlmClient({ registry: registry(), providers: { claude: { baseURL: URL } } })).not.toThrow();
  });

  it('refuses half a price in the config', () => {
    const half = registry('llm_providers:\n  claude: { input_price_per_mtok: 3 }\n');
    expect(configError({ registry: half, providers: { claude: { apiKey: 'k' } } }).message).toBe(
      'createLlmClient: llm_providers.claude.output_price_per_mtok: expected both input_price_per_mtok and output_price_per_mtok, or neither',
    );
  });

  it('tries first the provider that names a failover, from the config or the options (options first)', () => {
    const r = registry('llm_providers:\n  claude: {}\n  openai: { failover: claude, model: gpt-5 }\n');
    const both = { claude: { apiKey: 'k', model: 'claude-opus-4-1' }, openai: { apiKey: 'k' } };
    expect(createLlmClient({ registry: r, providers: both }).status()).toEqual({
      circuits: { 'llm_providers.openai': 'closed', 'llm_providers.claude': 'closed' },
      closed: false,
      providers: [
        { name: 'openai', model: 'gpt-5', failover: 'claude' },
        { name: 'claude', model: 'claude-opus-4-1', failover: undefined },
      ],
    });
    const swapped = {
      claude: { ...both.claude, failover: 'openai' as const },
      openai: { apiKey: 'k', failover: false as const },
    };
    expect(
      createLlmClient({ registry: r, providers: swapped })
        .status()
        .providers.map((p) => p.name),
    ).toEqual(['claude', 'openai']);
  });

  it('leaves a provider alone when it is the only one and names no failover', () => {
    const client = createLlmClient({ registry: registry(), providers: { openai: { apiKey: 'k' } } });
    expect(client.status().providers).toEqual([{ name: 'openai', model: 'gpt-5-mini', failover: undefined }]);
  });

  it('runs one provider without the file’s failover to the other, saying so at warn', () => {
    const { logger, lines } = capturingLogger();
    const config = loadConfig('llm_providers:\n  claude: { failover: openai }\n');
    const shipped = new BreakerRegistry({ config, metrics: false, logger });
    const client = createLlmClient({ registry: shipped, providers: { claude: { apiKey: 'k' } } });
    expect(client.status().providers).toEqual([{ name: 'claude', model: 'claude-sonnet-4-6', failover: undefined }]);
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toContain(
      'llm_providers.claude.failover names openai, which this client was not given: no failover for claude',
    );
  });

  it('refuses a failover that is unknown, unconfigured, itself, or named by both providers, naming the key', () => {
    const unknown = registry('llm_providers:\n  claude: { failover: mistral }\n');
    expect(configError({ registry: unknown, providers: { claude: { apiKey: 'k' } } }).message).toMatch(
      /llm_providers\.claude\.failover: expected one of claude, openai, got "mistral"/,
    );
    expect(
      configError({ registry: registry(), providers: { claude: { apiKey: 'k', failover: 'openai' } } }).message,
    ).toBe(
      'createLlmClient: providers.claude.failover: expected a configured provider, got openai (give providers.openai)',
    );
    expect(
      configError({ registry: registry(), providers: { claude: { apiKey: 'k', failover: 'claude' } } }).message,
    ).toBe('createLlmClient: providers.claude.failover: expected the other provider, got claude itself');
    const mutual = registry('llm_providers:\n  claude: { failover: openai }\n  openai: { failover: claude }\n');
    expect(
      configError({ registry: mutual, providers: { claude: { apiKey: 'k' }, openai: { apiKey: 'k' } } }).message,
    ).toBe(
      'createLlmClient: llm_providers.claude.failover, llm_providers.openai.failover: expected one provider to name the other as its failover: the one naming it is tried first',
    );
  });

  it('reads the shipped config file without a warning, primary included', () => {
    const { logger, lines } = capturingLogger();
    const shipped = new BreakerRegistry({
      config: loadConfig(SHIPPED_CONFIG),
      metrics: false,
      logger,
    });
    const client = createLlmClient({
      registry: shipped,
      providers: { claude: { apiKey: 'k' }, openai: { apiKey: 'k' } },
    });
    expect(client.status().providers.map((p) => [p.name, p.failover])).toEqual([
      ['claude', 'openai'],
      ['openai', undefined],
    ]);
    expect(lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
  });

  it('shares a circuit with a second client on the same settings, and refuses other breaker settings', () => {
    const r = registry();
    const providers = { claude: { apiKey: 'k', baseURL: URL } };
    createLlmClient({ registry: r, providers });
    expect(() => createLlmClient({ registry: r, providers })).not.toThrow();
    expect(() =>
      createLlmClient({ registry: r, providers: { claude: { ...providers.claude, breaker: { failMax: 9 } } } }),
    ).toThrow(/already exists with other options \(failMax\)/);
  });
});

describe('request checks', () => {
  it('rejects a bad request with LlmArgumentError naming the fields, before any upstream call', async () => {
    const h = await harness();
    const error = await h.client
      .generate({ prompt: 'x', messages: [{ role: 'user', content: 'y' }], maxTokens: 0, temperature: 1.5 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmArgumentError);
    expect((error as LlmArgumentError).message).toBe(
      'generate: maxTokens: expected a positive integer, got 0; temperature: expected a number from 0 to 1, got 1.5; prompt: expected either prompt or messages, got "x"',
    );
    expect(() => h.client.stream({ maxTokens: 5 })).toThrow('stream: prompt: expected either prompt or messages');
    expect(h.claude.messages).toHaveLength(0);
  });

  it('rejects bad call options with LlmArgumentError too, never a raw TypeError', async () => {
    const h = await harness();
    const error = await h.client
      .generate(PROMPT, { signal: 'nope' as never, cacheIncomplet: true } as never)
      .catch((e: unknown) => e);
    expect(isLlmArgumentError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'generate: options.signal: expected an AbortSignal, got a string (not shown); options: Unrecognized key: "cacheIncomplet"',
    );
    expect(() => h.client.stream(PROMPT, { signal: 1 as never })).toThrow(
      'stream: options.signal: expected an AbortSignal, got 1',
    );
    expect(h.claude.messages).toHaveLength(0);
  });

  it('sends messages and the system prompt in each provider own shape', async () => {
    const h = await harness();
    await h.claude.stop();
    const messages = [
      { role: 'user' as const, content: 'a' },
      { role: 'assistant' as const, content: 'b' },
      { role: 'user' as const, content: 'c' },
    ];
    await h.client.generate({ messages, system: 'sys', maxTokens: 5, temperature: 0.2 });
    expect(h.openai.completions[0]!.body).toMatchObject({
      messages: [{ role: 'system', content: 'sys' }, ...messages],
      temperature: 0.2,
    });
    expect(PROMPT.maxTokens).toBe(100);
  });
});
