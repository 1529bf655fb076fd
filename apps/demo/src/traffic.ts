import type { Demo } from './app.js';
import { ACTIVITIES, knownKeys } from './catalog.js';

/** Light background traffic, so the dashboard shows calls and a broken upstream trips its circuit. */
export function startTraffic(demo: Demo, periodMs = 300): () => void {
  const keys = knownKeys();
  let n = 0;
  const ignore = (error: unknown) => demo.logger.debug({ err: error }, 'traffic call failed');
  const timers = [
    setInterval(() => {
      const key = keys[n++ % keys.length]!;
      void demo.agents.calculator
        .calculate({ ...key, unit: ACTIVITIES[key.activity]!.unit, quantity: 100 + (n % 50) })
        .catch(ignore);
    }, periodMs),
    setInterval(() => {
      const systems = ['sap', 'oracle', 'workday'] as const;
      void demo.agents.intake.run({ system: systems[n % 3]! }).catch(ignore);
    }, periodMs * 30),
    setInterval(() => void demo.agents.reporting.send({ to: 'ops@gl-vcci.example' }).catch(ignore), periodMs * 50),
  ];
  return () => {
    for (const t of timers) clearInterval(t);
  };
}
