import { zeroedCounter } from '@gl-vcci/breaker-core/client';
import type { Registry } from 'prom-client';
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
  | 'incomplete'
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
  'incomplete',
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
  const tokens = zeroedCounter(registry, {
    name: TOKENS_METRIC,
    help: 'Tokens spent by provider, model and kind (input, output)',
    labelNames: ['provider', 'model', 'kind'],
    series: providers.flatMap((p) => ['input', 'output'].map((kind) => ({ provider: p.name, model: p.model, kind }))),
  })!;
  const requests = zeroedCounter(registry, {
    name: REQUESTS_METRIC,
    help: `Requests to each provider by outcome (${OUTCOMES.join(', ')})`,
    labelNames: ['provider', 'outcome'],
    series: providers.flatMap((p) => OUTCOMES.map((outcome) => ({ provider: p.name, outcome }))),
  })!;
  const failovers = zeroedCounter(registry, {
    name: FAILOVERS_METRIC,
    help: 'Requests passed on from one provider to the next',
    labelNames: ['from', 'to'],
    series: providers.flatMap((from) =>
      providers.filter((to) => to !== from).map((to) => ({ from: from.name, to: to.name })),
    ),
  })!;
  const priced = providers.filter((p) => p.prices);
  const cost =
    priced.length === 0
      ? undefined
      : zeroedCounter(registry, {
          name: COST_METRIC,
          help: 'Cost in USD of the tokens spent, from the configured prices per million tokens',
          labelNames: ['provider', 'model'],
          series: priced.map((p) => ({ provider: p.name, model: p.model })),
        });
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
