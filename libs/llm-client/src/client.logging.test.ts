import { anthropicError } from '@gl-vcci/upstreams/anthropic';
import { OPENAI_INSUFFICIENT_QUOTA } from '@gl-vcci/upstreams/openai';
import { describe, expect, it } from 'vitest';
import { ANTHROPIC_KEY, CLAUDE_ROUTE, harness, OPENAI_KEY, OPENAI_ROUTE, PROMPT } from '../test/support.js';

describe('logging', () => {
  it('never logs an API key, through failovers, auth errors, billing errors and circuit changes', async () => {
    const h = await harness({ capture: true });
    h.claude.mode(CLAUDE_ROUTE, anthropicError(401, 'authentication_error'));
    await h.client.generate(PROMPT);
    h.claude.mode(CLAUDE_ROUTE, anthropicError(529, 'overloaded_error'));
    await h.client.generate(PROMPT);
    await h.client.generate(PROMPT); // opens the claude circuit
    h.openai.mode(OPENAI_ROUTE, OPENAI_INSUFFICIENT_QUOTA);
    await h.client.generate(PROMPT).catch(() => {});
    await h.client.generate(PROMPT).catch(() => {}); // opens the openai circuit
    const text = JSON.stringify(h.lines);
    expect(h.lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('API key'),
        expect.stringContaining('failing over'),
        expect.stringContaining('billing problem'),
      ]),
    );
    expect(text).not.toContain(ANTHROPIC_KEY);
    expect(text).not.toContain(OPENAI_KEY);
    expect(text).not.toContain('TESTSECRET');
    expect(text).not.toContain(PROMPT.prompt);
  });
});
