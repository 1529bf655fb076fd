import { isDeepStrictEqual } from 'node:util';
import { closest } from 'fastest-levenshtein';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { CircuitBreaker } from './breaker.js';
import type { ResolvedSettings, SettingFields } from './client/settings.js';
import { type Clock, systemClock } from './clock.js';
import type { LoadedConfig, ServiceSettings } from './config/load.js';
import { settingsFor } from './config/load.js';
import { serviceSettingsSchema, toBreakerConfig } from './config/schema.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logging.js';
import { BreakerMetrics, type MetricsOptions } from './metrics.js';
import { type BreakerConfig, type ResolvedBreakerConfig, resolveBreakerConfig } from './options.js';
import type { StateSync } from './sync.js';
import type { CircuitState, TransitionReason } from './types.js';
import { describeValue, type Issue } from './validation.js';

export interface RegistryOptions {
  /** From `loadConfig`: per-service settings that breakers and clients are built from. */
  config?: LoadedConfig;
  /** Where and how breaker metrics are published; `false` publishes none. */
  metrics?: MetricsOptions | false;
  /** Parent of every circuit's child logger (default `createLogger()`: JSON to stdout, secrets redacted). */
  logger?: Logger;
  /** Clock for every breaker made here (tests pass a ManualClock). */
  clock?: Clock;
  /**
   * A key in a service block that neither breaker-core nor the client reading it knows (a typo such
   * as `fail_maxx`) is logged as a warning naming the closest known key; with `strictConfig` it
   * throws a ConfigError instead.
   */
  strictConfig?: boolean;
  /**
   * Shares every circuit made here with the other replicas of the service (only transitions
   * travel; see StateSync). The application owns it and closes it.
   */
  sync?: StateSync;
}

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface CircuitHealth {
  state: CircuitState;
  critical: boolean;
  failureRate: number;
  slowCallRate: number;
  callsInWindow: number;
  lastTransition: { from: CircuitState; to: CircuitState; reason: TransitionReason; at: number } | undefined;
  nextTrialAt: number | undefined;
}

export interface HealthReport {
  /** ok: every circuit lets traffic through; degraded: one is open or half-open; down: a critical one is open. */
  status: HealthStatus;
  circuits: Record<string, CircuitHealth>;
}

/** Every key breaker-core reads or keeps for the platform's own format. */
const CORE_KEYS: readonly string[] = Object.keys(serviceSettingsSchema.shape);

const BLOCKING: ReadonlySet<CircuitState> = new Set(['open', 'forced_open']);

/** One per process: makes breakers by name from config and owns their metrics and logger. */
export class BreakerRegistry {
  readonly logger: Logger;
  readonly config: LoadedConfig | undefined;
  readonly #metrics: BreakerMetrics | undefined;
  /** The clock every breaker made here uses; clients use it too, so all time moves together in tests. */
  readonly clock: Clock;
  readonly #breakers = new Map<string, { breaker: CircuitBreaker; overrides: Record<string, unknown> }>();
  readonly #strict: boolean;
  readonly #sync: StateSync | undefined;
  /** Unknown keys already reported, as `service\0key`. */
  readonly #reported = new Set<string>();

  constructor(options: RegistryOptions = {}) {
    this.config = options.config;
    this.logger = options.logger ?? createLogger();
    this.clock = options.clock ?? systemClock;
    this.#strict = options.strictConfig ?? false;
    this.#sync = options.sync;
    this.#metrics = options.metrics === false ? undefined : new BreakerMetrics(options.metrics);
  }

  /**
   * The breaker called `name`, made on first use from the client's `defaults`, then the config's
   * settings for that service (or the global defaults), then `overrides` on top, later winning.
   * Later calls return the same breaker.
   */
  breaker(
    name: string,
    overrides: Partial<Omit<BreakerConfig, 'name'>> = {},
    defaults: Partial<Omit<BreakerConfig, 'name'>> = {},
  ): CircuitBreaker {
    const given = definedOnly(overrides);
    const existing = this.#breakers.get(name);
    if (existing) {
      // Plain data compares by value, functions (classify, clock) by identity: pass module-level ones.
      const differing = Object.keys({ ...given, ...existing.overrides }).filter(
        (k) => !isDeepStrictEqual((given as Record<string, unknown>)[k], existing.overrides[k]),
      );
      if (Object.keys(given).length > 0 && differing.length > 0) {
        throw new ConfigError(
          `Circuit "${name}" already exists with other options (${differing.join(', ')}): one breaker per dependency per registry`,
          differing.map((path) => ({ path, message: 'differs from the options the circuit was created with' })),
        );
      }
      return existing.breaker;
    }
    if (this.config && !Object.hasOwn(this.config.services, name)) {
      // Most often a typo: say so once, where it happens, rather than run on defaults unnoticed.
      this.logger.warn(
        { circuit: name, config: this.config.source },
        'circuit not in the config file: using global defaults',
      );
    }
    const config = this.#layered(name, given, defaults);
    const stats = this.#metrics?.createStats();
    const breaker = new CircuitBreaker(config, { logger: this.logger, observer: stats, sync: this.#sync });
    if (stats) this.#metrics!.track(breaker, stats);
    this.#breakers.set(name, { breaker, overrides: given });
    return breaker;
  }

  /**
   * The settings `breaker(name, overrides, defaults)` would build a new circuit with, resolved and
   * checked, without building it: a client checks its breaker overrides with its other options
   * and reports every problem at once. Throws the ConfigError the breaker would.
   */
  breakerConfig(
    name: string,
    overrides: Partial<Omit<BreakerConfig, 'name'>> = {},
    defaults: Partial<Omit<BreakerConfig, 'name'>> = {},
  ): ResolvedBreakerConfig {
    return resolveBreakerConfig(this.#layered(name, definedOnly(overrides), defaults));
  }

  #layered(
    name: string,
    given: Partial<Omit<BreakerConfig, 'name'>>,
    defaults: Partial<Omit<BreakerConfig, 'name'>>,
  ): BreakerConfig {
    const fromFile = this.config ? toBreakerConfig(name, settingsFor(this.config, name)) : { name };
    return { clock: this.clock, ...defaults, ...fromFile, ...given, name };
  }

  /** Where breaker metrics go, and where clients register theirs; undefined when metrics are off. */
  get metricsRegistry(): Registry | undefined {
    return this.#metrics?.registry;
  }

  /**
   * A service's client-owned settings, checked and converted (seconds to ms) as `fields` says:
   * `registry.settings('factor_broker.ecoinvent', { cacheTtlMs: setting.seconds('cache_ttl') })`.
   * A bad value throws a ConfigError naming the key; a key that neither breaker-core nor `fields`
   * knows is reported (see `strictConfig`). A client calls it for every circuit it owns.
   */
  settings<F extends SettingFields>(name: string, fields: F): ResolvedSettings<F> {
    const raw: ServiceSettings = this.config ? settingsFor(this.config, name) : {};
    this.#checkKeys(name, raw, fields);
    const out: Record<string, unknown> = {};
    const issues: Issue[] = [];
    for (const [field, { key, schema }] of Object.entries(fields)) {
      const value = (raw as Record<string, unknown>)[key];
      if (value === undefined) continue;
      const parsed = schema.safeParse(value);
      if (parsed.success) out[field] = parsed.data;
      else {
        const message = `${parsed.error.issues[0]?.message ?? 'invalid'}, got ${describeValue(value)}`;
        issues.push({ path: `${name}.${key}`, message });
      }
    }
    if (issues.length > 0) throw this.#configError(issues);
    return out as ResolvedSettings<F>;
  }

  #checkKeys(name: string, raw: ServiceSettings, fields: SettingFields): void {
    const known = [...CORE_KEYS, ...Object.values(fields).map((f) => f.key)];
    const unknown = Object.keys(raw).filter((key) => !known.includes(key));
    const issues = unknown.map((key) => ({
      path: `${name}.${key}`,
      message: `unknown key (neither breaker-core nor the client reading ${name} uses it); did you mean ${closest(key, known)}?`,
    }));
    if (issues.length === 0) return;
    if (this.#strict) throw this.#configError(issues);
    for (const issue of issues) {
      if (this.#reported.has(issue.path)) continue;
      this.#reported.add(issue.path);
      this.logger.warn({ key: issue.path, config: this.config?.source }, issue.message);
    }
  }

  #configError(issues: Issue[]): ConfigError {
    const where = this.config?.source ?? 'config';
    return new ConfigError(`${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }

  get(name: string): CircuitBreaker | undefined {
    return this.#breakers.get(name)?.breaker;
  }

  breakers(): CircuitBreaker[] {
    return [...this.#breakers.values()].map((entry) => entry.breaker);
  }

  health(): HealthReport {
    let status: HealthStatus = 'ok';
    const circuits: Record<string, CircuitHealth> = {};
    for (const { breaker } of this.#breakers.values()) {
      const { name, state, critical, failureRate, slowCallRate, callsInWindow, lastTransition, nextTrialAt } =
        breaker.snapshot();
      circuits[name] = { state, critical, failureRate, slowCallRate, callsInWindow, lastTransition, nextTrialAt };
      if (BLOCKING.has(state) && critical) status = 'down';
      else if (status === 'ok' && (BLOCKING.has(state) || state === 'half_open')) status = 'degraded';
    }
    return { status, circuits };
  }

  /** Unregisters this registry's metrics (breakers keep working, unreported). */
  close(): void {
    this.#metrics?.close();
  }
}

/** An undefined override means "not given": it must not wipe the file's setting. */
function definedOnly<T extends object>(overrides: T): Partial<T> {
  return Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) as Partial<T>;
}
