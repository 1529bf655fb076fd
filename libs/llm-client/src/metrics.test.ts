import { BreakerRegistry } from '@gl-vcci/breaker-core';
import { silentLogger } from '@gl-vcci/breaker-core/testing';
import { anthropicError } from '@gl-vcci/upstreams/anthropic';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CLAUDE_ROUTE, harness, PROMPT } from '../test/support.js';
import { createLlmClient } from './client.js';
import { COST_METRIC, FAILOVERS_METRIC, REQUESTS_METRIC, TOKENS_METRIC } from './metrics.js';

describe('LLM metrics', () => {
  it('counts tokens, cost, requests and failovers: the exact text after a scripted run', async () => {
    const h = await harness();
    h.claude.reply('a', { input_tokens: 12, output_tokens: 5 });
    h.openai.reply('b', { prompt_tokens: 10, completion_tokens: 4 });
    await h.client.generate(PROMPT); // claude live
    h.claude.mode(CLAUDE_ROUTE, anthropicError(529, 'overloaded_error'));
    await h.client.generate(PROMPT); // claude failure, openai failover
    h.claude.mode(CLAUDE_ROUTE, 'healthy');
    await h.client.generate({ ...PROMPT, temperature: 0 }); // claude live
    await h.client.generate({ ...PROMPT, temperature: 0 }); // cache: no request, no tokens
    await h.client.generate({ ...PROMPT, maxTokens: 0 }).catch(() => {}); // refused before any request

    expect(
      await h.metric(TOKENS_METRIC),
    ).toBe(`# HELP greenlang_llm_tokens_total Tokens spent by provider, model and kind (input, output)
# TYPE greenlang_llm_tokens_total counter
greenlang_llm_tokens_total{provider="claude",model="claude-sonnet-4-6",kind="input"} 24
greenlang_llm_tokens_total{provider="claude",model="claude-sonnet-4-6",kind="output"} 10
greenlang_llm_tokens_total{provider="openai",model="gpt-5-mini",kind="input"} 10
greenlang_llm_tokens_total{provider="openai",model="gpt-5-mini",kind="output"} 4`);
    // claude: 2 × (12 × $3 + 5 × $15) / 1M; openai: (10 × $0.25 + 4 × $2) / 1M.
    expect(
      await h.metric(COST_METRIC),
    ).toBe(`# HELP greenlang_llm_cost_usd_total Cost in USD of the tokens spent, from the configured prices per million tokens
# TYPE greenlang_llm_cost_usd_total counter
greenlang_llm_cost_usd_total{provider="claude",model="claude-sonnet-4-6"} 0.000222
greenlang_llm_cost_usd_total{provider="openai",model="gpt-5-mini"} 0.0000105`);
    expect(
      await h.metric(FAILOVERS_METRIC),
    ).toBe(`# HELP greenlang_llm_failovers_total Requests passed on from one provider to the next
# TYPE greenlang_llm_failovers_total counter
greenlang_llm_failovers_total{from="claude",to="openai"} 1
greenlang_llm_failovers_total{from="openai",to="claude"} 0`);
    const requests = (await h.metric(REQUESTS_METRIC))
      .split('\n')
      .filter((l) => !l.startsWith('#') && !l.endsWith(' 0'));
    expect(requests).toEqual([
      'greenlang_llm_requests_total{provider="claude",outcome="success"} 2',
      'greenlang_llm_requests_total{provider="claude",outcome="failure"} 1',
      'greenlang_llm_requests_total{provider="openai",outcome="success"} 1',
    ]);
    expect((await h.metric(REQUESTS_METRIC)).split('\n').filter((l) => !l.startsWith('#'))).toHaveLength(20);
  });

  it('publishes no cost series when no prices are configured', async () => {
    const prom = new Registry();
    const registry = new BreakerRegistry({ metrics: { registry: prom }, logger: silentLogger() });
    createLlmClient({ providers: { claude: { apiKey: 'k', baseURL: 'http://127.0.0.1:9' } }, registry });
    expect(await prom.getSingleMetricAsString(TOKENS_METRIC)).toContain('kind="output"} 0');
    expect(prom.getSingleMetric(COST_METRIC)).toBeUndefined();
  });

  it('publishes nothing when the registry has metrics off', () => {
    const registry = new BreakerRegistry({ metrics: false, logger: silentLogger() });
    expect(() =>
      createLlmClient({ providers: { claude: { apiKey: 'k', baseURL: 'http://127.0.0.1:9' } }, registry }),
    ).not.toThrow();
  });
});
