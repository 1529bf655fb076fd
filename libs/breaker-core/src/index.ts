export type { Logger } from 'pino';
export { CircuitBreaker } from './breaker.js';
export { type Clock, systemClock } from './clock.js';
export {
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  MAX_CONFIG_BYTES,
  type ServiceSettings,
  settingsFor,
} from './config/load.js';
export { toBreakerConfig } from './config/schema.js';
export {
  BreakerCoreError,
  BulkheadFullError,
  CircuitOpenError,
  ConfigError,
  errorMessage,
  FallbackExhaustedError,
  isBulkheadFullError,
  isCircuitOpenError,
  isConfigError,
  isFallbackExhaustedError,
  isTimeoutError,
  TimeoutError,
} from './errors.js';
export { formatMs } from './format.js';
export { createLogger, REDACTED_KEYS } from './logging.js';
export { DEFAULT_DURATION_BUCKETS, ensureMetric, type MetricsOptions } from './metrics.js';
export {
  BREAKER_DEFAULTS,
  type BreakerConfig,
  type ResolvedBreakerConfig,
  resolveBreakerConfig,
  type SlidingWindowConfig,
} from './options.js';
export { Bulkhead, type BulkheadOptions } from './policies/bulkhead.js';
export {
  type FallbackChainOptions,
  type FallbackStep,
  type FallbackStepEvent,
  fallbackChain,
} from './policies/fallback.js';
export {
  RetryBudget,
  type RetryBudgetOptions,
  type RetryExecuteOptions,
  type RetryOptions,
  RetryPolicy,
} from './policies/retry.js';
export { type DeadlineOptions, runWithDeadline, TimeoutPolicy, type TimeoutPolicyOptions } from './policies/timeout.js';
export {
  BreakerRegistry,
  type CircuitHealth,
  type HealthReport,
  type HealthStatus,
  type RegistryOptions,
} from './registry.js';
export { parseRetryAfter } from './retry-after.js';
export type { StateSync } from './sync.js';
export type {
  BreakerObserver,
  BreakerRuntime,
  BreakerSnapshot,
  CallStatus,
  CircuitState,
  Classification,
  ExecuteOptions,
  Outcome,
  Refusal,
  Sourced,
  StateChange,
  TransitionReason,
  ValueSource,
} from './types.js';
export type { Issue } from './validation.js';
