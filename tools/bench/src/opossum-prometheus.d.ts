// opossum-prometheus ships no types; this is the part the bench uses.
declare module 'opossum-prometheus' {
  import type CircuitBreaker from 'opossum';
  import type { Registry } from 'prom-client';
  export default class PrometheusMetrics {
    constructor(options: { circuits?: CircuitBreaker[]; registry?: Registry; exposePerformanceMetrics?: boolean });
    clear(): void;
  }
}
