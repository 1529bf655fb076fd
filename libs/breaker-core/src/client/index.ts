// @gl-vcci/breaker-core/client: what a client author needs beyond an application's API.
// "Writing a client" in the README says how the pieces fit.

export { codeGuard } from '../errors.js';
export {
  boolean,
  clockSchema,
  collectIssues,
  describeValue,
  fnSchema,
  formatIssues,
  type Issue,
  MAX_TIMER_MS,
  nonEmptyString,
  nonNegativeInt,
  nonNegativeNumber,
  parseOrThrow,
  percentage,
  positiveInt,
  positiveNumber,
  toIssues,
} from '../validation.js';
export { raceAbort } from './abort.js';
export { closingController } from './closing.js';
export { type ZeroedCounterOptions, zeroedCounter } from './counter.js';
export { detachCause, redactSecrets } from './errors.js';
export { type FailoverOptions, type FailoverResult, failover, type Upstream } from './failover.js';
export { ScrapedHistogram, type ScrapedHistogramOptions, scrapedHistogram } from './histogram.js';
export { type HttpStatusClass, httpStatusClass } from './http-status.js';
export { type LoggedError, loggedError } from './log.js';
export {
  anObject,
  baseOptions,
  breakerOverridesSchema,
  durationMs,
  headersSchema,
  localSchema,
  loggerSchema,
  registrySchema,
  secretSchema,
  signalSchema,
  storeSchema,
  urlSchema,
} from './options.js';
export { type ResolvedSettings, type SettingField, type SettingFields, setting } from './settings.js';
export { SingleFlight } from './single-flight.js';
export type { CallOutcome, ClientStatus } from './status.js';
export {
  ClientCache,
  type ClientCacheOptions,
  getWithin,
  type KeyValueStore,
  LocalStore,
  type LocalStoreOptions,
} from './store.js';
