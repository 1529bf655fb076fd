import { setMaxListeners } from 'node:events';

/**
 * The signal given to calls that have neither a deadline nor a caller signal. Shared, because
 * creating an AbortSignal costs ~2.3 µs on Node 20, far more than the breaker itself. It never
 * aborts, so a listener left on it is never called: SDKs that add one per call must remove it
 * (axios, undici and the official LLM SDKs do), and the listener-count warning is off.
 */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
setMaxListeners(0, NEVER_ABORTED);
