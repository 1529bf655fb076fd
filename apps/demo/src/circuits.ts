import type { CircuitState } from '@gl-vcci/breaker-core';
import type { Demo } from './app.js';

/** One circuit as the dashboard, the final table and `GET /circuits/:name` show it. */
export interface CircuitView {
  name: string;
  state: CircuitState;
  critical: boolean;
  failureRate: number;
  callsInWindow: number;
  calls: number;
  successes: number;
  failures: number;
  timeouts: number;
  rejections: number;
  ignored: number;
  transitions: number;
  lastTransition: { from: string; to: string; reason: string; at: number; error?: string } | undefined;
  nextTrialAt: number | undefined;
  served: Record<string, number>;
  manual: { action: string; since: number } | undefined;
  upstream: { name: string; broken: boolean; fault: string; brokenSince: number | undefined } | undefined;
}

type Sample = { labels: Record<string, string | number>; value: number };

async function samples(demo: Demo, name: string): Promise<Sample[]> {
  const metric = demo.prom.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values as Sample[];
}

/** Every circuit of the registry, with its counts read from the Prometheus metrics breaker-core publishes. */
export async function circuitViews(demo: Demo): Promise<CircuitView[]> {
  const calls = await samples(demo, 'greenlang_circuit_breaker_calls_total');
  const transitions = await samples(demo, 'greenlang_circuit_breaker_state_transitions_total');
  const health = demo.registry.health();
  const count = (name: string, status: string) =>
    calls.filter((s) => s.labels.circuit_name === name && s.labels.status === status).reduce((n, s) => n + s.value, 0);
  const upstreamOf = new Map([...demo.upstreams.controls.values()].map((c) => [c.circuit, c]));
  // The registry's clock is the system clock here, so its times are wall-clock milliseconds.
  const lastWall = new Map<string, { error?: string }>();
  for (const t of demo.transitions) lastWall.set(t.circuitName, t.error === undefined ? {} : { error: t.error });
  return Object.entries(health.circuits)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, h]) => {
      const successes = count(name, 'success');
      const failures = count(name, 'failure');
      const timeouts = count(name, 'timeout');
      const rejections = count(name, 'rejected');
      const ignored = count(name, 'ignored');
      const up = upstreamOf.get(name);
      return {
        name,
        state: h.state,
        critical: h.critical,
        failureRate: Math.round(h.failureRate * 10) / 10,
        callsInWindow: h.callsInWindow,
        calls: successes + failures + timeouts + rejections + ignored,
        successes,
        failures,
        timeouts,
        rejections,
        ignored,
        transitions: transitions.filter((s) => s.labels.circuit_name === name).reduce((n, s) => n + s.value, 0),
        lastTransition: h.lastTransition ? { ...h.lastTransition, ...lastWall.get(name) } : undefined,
        nextTrialAt: h.nextTrialAt,
        served: demo.served.of(name),
        manual: demo.manual.get(name),
        upstream: up ? { name: up.name, broken: up.broken, fault: up.fault, brokenSince: up.brokenSince } : undefined,
      };
    });
}
