import { waitFor } from '@gl-vcci/breaker-core/testing';
import { describe, expect, it } from 'vitest';
import { CLAUDE_ROUTE, harness, PROMPT } from '../test/support.js';
import { isLlmClosedError } from './errors.js';

describe('status and close', () => {
  it('status names each circuit with its state, the providers in order, and whether closed', async () => {
    const h = await harness();
    await h.claude.stop();
    await h.client.generate(PROMPT);
    await h.client.generate(PROMPT);
    expect(h.client.status()).toEqual({
      circuits: { 'llm_providers.claude': 'open', 'llm_providers.openai': 'closed' },
      closed: false,
      providers: [
        { name: 'claude', model: 'claude-sonnet-4-6', failover: 'openai' },
        { name: 'openai', model: 'gpt-5-mini', failover: undefined },
      ],
    });
  });

  it('close abandons a call hung upstream with LlmClosedError, leaves no timer, and refuses new calls', async () => {
    const h = await harness();
    h.claude.mode(CLAUDE_ROUTE, 'hang');
    const pending = h.client.generate(PROMPT).catch((e: unknown) => e);
    const streaming = (async () => {
      for await (const _ of h.client.stream(PROMPT)) {
        // nothing arrives
      }
    })().catch((e: unknown) => e);
    await waitFor(() => h.claude.messages.length === 2, 'both requests to reach the anthropic simulator');
    await h.client.close();
    expect(isLlmClosedError(await pending)).toBe(true);
    expect(isLlmClosedError(await streaming)).toBe(true);
    expect(h.clock.pendingTimers).toBe(0);
    expect(h.openai.completions).toHaveLength(0);
    expect(h.client.status().closed).toBe(true);
    await expect(h.client.generate(PROMPT)).rejects.toMatchObject({ code: 'LLM_CLOSED' });
    expect(() => h.client.stream(PROMPT)).toThrow('The LLM client is closed');
  });
});
