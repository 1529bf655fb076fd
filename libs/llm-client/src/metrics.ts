import { ensureMetric } from '@gl-vcci/breaker-core';
import { Counter, type Registry } from 'prom-client';
import type { LlmPrices, LlmUsage, ProviderName } from './types.js';

export const TOKENS_METRIC = 'greenlang_llm_tokens_total';
export const REQUESTS_METRIC = 'greenlang_llm_requests_total';
export const FAILOVERS_METRIC = 'greenlang_llm_failovers_total';
export const COST_METRIC = 'greenlang_llm_cost_usd_total';

/** How one request to one provider ended. */
export type RequestOutcome =
  | 'success'
  | 'failure'
  | 'timeout'
  | 'rate_limited'
  | 'quota_exceeded'
  | 'auth_error'
  | 'rejected'
  | 'circuit_open'
  | 'cancelled';

export const OUTCOMES: readonly RequestOutcome[] = [
  'success',
  'failure',
  'timeout',
  'rate_limited',
  'quota_exceeded',
  'auth_error',
  'rejected',
  'circuit_open',
  'cancelled',
];

export interface MeteredProvider {
  name: ProviderName;
  /** The configured model: labels come from configuration, never from a response. */
  model: string;
  prices: LlmPrices | undefined;
}

/** The LLM client's own metrics, beside the breakers'. */
export interface LlmMetrics {
  request(provider: ProviderName, outcome: RequestOutcome): void;
  /** Tokens an answer spent, and their cost when the provider has prices. */
  spent(provider: MeteredProvider, usage: LlmUsage): void;
  failover(from: ProviderName, to: ProviderName): void;
}

const NO_METRICS: LlmMetrics = { request() {}, spent() {}, failover() {} };

/**
 * Registers (or reuses: two clients in one process share the series) the LLM collectors in the
 * registry the breakers report to. Every series the configured providers can move starts at 0.
 * No registry: metrics are off.
 */
export function createLlmMetrics(registry: Registry | undefined, providers: readonly MeteredProvider[]): LlmMetrics {
  if (!registry) return NO_METRICS;
  const counter = (name: string, help: string, labelNames: string[]) =>
    ensureMetric(registry, name, (registers) => new Counter({ name, help, labelNames, registers }));
  const tokens = counter(TOKENS_METRIC, 'Tokens spent by provider, model and kind (input, output)', [
    'provider',
    'model',
    'kind',
  ]);
  const requests = counter(
    REQUESTS_METRIC,
    'Requests to each provider by outcome (success, failure, timeout, rate_limited, quota_exceeded, auth_error, rejected, circuit_open, cancelled)',
    ['provider', 'outcome'],
  );
  const failovers = counter(FAILOVERS_METRIC, 'Requests passed on from one provider to the next', ['from', 'to']);
  const cost = providers.some((p) => p.prices)
    ? counter(COST_METRIC, 'Cost in USD of the tokens spent, from the configured prices per million tokens', [
        'provider',
        'model',
      ])
    : undefined;
  for (const p of providers) {
    for (const kind of ['input', 'output']) tokens.inc({ provider: p.name, model: p.model, kind }, 0);
    for (const outcome of OUTCOMES) requests.inc({ provider: p.name, outcome }, 0);
    if (p.prices) cost?.inc({ provider: p.name, model: p.model }, 0);
  }
  for (const from of providers) {
    for (const to of providers) if (from !== to) failovers.inc({ from: from.name, to: to.name }, 0);
  }
  return {
    request(provider, outcome) {
      requests.inc({ provider, outcome });
    },
    spent(p, usage) {
      tokens.inc({ provider: p.name, model: p.model, kind: 'input' }, usage.inputTokens);
      tokens.inc({ provider: p.name, model: p.model, kind: 'output' }, usage.outputTokens);
      if (p.prices && cost) {
        const usd =
          (usage.inputTokens * p.prices.inputPerMillion + usage.outputTokens * p.prices.outputPerMillion) / 1e6;
        cost.inc({ provider: p.name, model: p.model }, usd);
      }
    },
    failover(from, to) {
      failovers.inc({ from, to });
    },
  };
}
