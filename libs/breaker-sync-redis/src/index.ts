export { SYNC_CONNECTED_METRIC, SYNC_EVENTS, SYNC_EVENTS_METRIC, type SyncEvent } from './metrics.js';
export { type AdoptPolicy, type CircuitSyncOptions, isLocalFailure, type RedisStateSyncOptions } from './options.js';
export { LEASE_PENDING_MS, RedisStateSync, type RedisStateSyncStatus } from './sync.js';
