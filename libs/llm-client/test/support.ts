import type { BreakerRegistry, CircuitBreaker } from '@gl-vcci/breaker-core';
import { capturingLogger, type ManualClock, testRegistry } from '@gl-vcci/breaker-core/testing';
import { type AnthropicSimulator, startAnthropicSimulator } from '@gl-vcci/upstreams/anthropic';
import { type OpenAISimulator, startOpenAISimulator } from '@gl-vcci/upstreams/openai';
import type { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import { createLlmClient } from '../src/client.js';
import type { LlmClient, LlmClientOptions } from '../src/types.js';

/**
 * The providers' config blocks the tests run with: claude first, openai its failover (`primary`
 * stays, as in the shipped file, read by no client), a count window so a circuit
 * opens after two failures, 30 s open (moved past with the ManualClock), a 5 s call deadline,
 * prices for the cost metric, a 60 s response cache.
 */
export const LLM_CONFIG = `
llm_providers:
  claude:
    primary: true
    failover: openai
    window_calls: 10
    fail_max: 2
    timeout_duration: 30
    call_timeout: 5
    cache_ttl: 60
    model: claude-sonnet-4-6
    input_price_per_mtok: 3
    output_price_per_mtok: 15
  openai:
    primary: false
    window_calls: 10
    fail_max: 2
    timeout_duration: 30
    call_timeout: 5
    model: gpt-5-mini
    input_price_per_mtok: 0.25
    output_price_per_mtok: 2
`;

export const OPEN_DURATION_MS = 30_000;
export const CALL_TIMEOUT_MS = 5_000;
export const CACHE_TTL_MS = 60_000;
export const FIRST_TOKEN_TIMEOUT_MS = 1_000;
export const IDLE_TIMEOUT_MS = 500;

/** Look like real keys, so a leak would be found by a plain substring search. */
export const ANTHROPIC_KEY = 'sk-ant-api03-TESTSECRET-claude-0123456789';
export const OPENAI_KEY = 'sk-proj-TESTSECRET-openai-9876543210';

export const CLAUDE_ROUTE = 'POST /v1/messages';
export const OPENAI_ROUTE = 'POST /v1/chat/completions';

export interface Harness {
  client: LlmClient;
  claude: AnthropicSimulator;
  openai: OpenAISimulator;
  registry: BreakerRegistry;
  clock: ManualClock;
  prom: Registry;
  /** Captured log lines (parsed JSON), when the harness was made with `capture: true`. */
  lines: Array<Record<string, unknown>>;
  breaker(name: 'claude' | 'openai'): CircuitBreaker;
  metric(name: string): Promise<string>;
}

const open: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

/** Both simulators, a registry on its own prom-client Registry and a ManualClock, and a client on them. */
export async function harness(
  options: { yaml?: string; capture?: boolean; client?: Partial<LlmClientOptions> } = {},
): Promise<Harness> {
  const claude = await startAnthropicSimulator();
  open.push(() => claude.close());
  const openai = await startOpenAISimulator();
  open.push(() => openai.close());
  const captured = options.capture ? capturingLogger() : undefined;
  const { registry, prom, clock } = testRegistry({
    config: options.yaml ?? LLM_CONFIG,
    ...(captured ? { logger: captured.logger } : {}),
  });
  const client = createLlmClient({
    providers: {
      claude: { apiKey: ANTHROPIC_KEY, baseURL: claude.url },
      openai: { apiKey: OPENAI_KEY, baseURL: `${openai.url}/v1` },
    },
    registry,
    stream: { firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS, idleTimeoutMs: IDLE_TIMEOUT_MS },
    ...options.client,
  });
  open.push(() => client.close());
  return {
    client,
    claude,
    openai,
    registry,
    clock,
    prom,
    lines: captured?.lines ?? [],
    breaker: (name) => registry.get(`llm_providers.${name}`)!,
    metric: (name) => prom.getSingleMetricAsString(name),
  };
}

/** The breaker's calls_total by status for one circuit, e.g. { success: 3, failure: 2, … }. */
export async function breakerCalls(prom: Registry, provider: 'claude' | 'openai'): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  const text = await prom.getSingleMetricAsString('greenlang_circuit_breaker_calls_total');
  for (const match of text.matchAll(/circuit_name="llm_providers\.(\w+)",status="(\w+)"\} (\S+)/g)) {
    if (match[1] === provider) calls[match[2]!] = Number(match[3]);
  }
  return calls;
}

export const PROMPT = { prompt: 'Classify supplier ACME GmbH by NACE code.', maxTokens: 100 } as const;
