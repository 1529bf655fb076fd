import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker.js';
import { CircuitOpenError } from './errors.js';
import { deferred, flushPromises, ManualClock } from './testing.js';

type Outcome = 'success' | 'failure' | 'ignore' | 'hang';
type Step = { start: Outcome } | { settle: number } | { advance: number } | { abort: number };

const AUTOMATIC = new Set(['closed', 'open', 'half_open']);
const IGNORED = new Error('caller error');

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ start: fc.constantFrom<Outcome>('success', 'failure', 'ignore', 'hang') }),
  fc.record({ settle: fc.nat(20) }),
  fc.record({ advance: fc.integer({ min: 1, max: 4_000 }) }),
  fc.record({ abort: fc.nat(20) }),
);

const config = fc.record({
  failMax: fc.integer({ min: 1, max: 5 }),
  halfOpenMaxCalls: fc.integer({ min: 1, max: 4 }),
  successThreshold: fc.integer({ min: 1, max: 4 }),
  openDurationMs: fc.integer({ min: 100, max: 3_000 }),
  callTimeoutMs: fc.integer({ min: 50, max: 5_000 }),
  slidingWindow: fc.oneof(
    fc.record({ kind: fc.constant('count' as const), size: fc.integer({ min: 5, max: 20 }) }),
    fc.record({ kind: fc.constant('time' as const), seconds: fc.integer({ min: 1, max: 10 }) }),
  ),
});

interface Pending {
  outcome: Outcome;
  settle: () => void;
  abort: () => void;
  done: Promise<unknown>;
  admittedIn: string;
}

describe('state machine under random interleavings', () => {
  it('never leaks a half-open permit, never over-admits, never leaves a state the config forbids', async () => {
    await fc.assert(
      fc.asyncProperty(config, fc.array(step, { maxLength: 60 }), async (options, steps) => {
        const clock = new ManualClock();
        const breaker = new CircuitBreaker({
          name: 'prop',
          clock,
          ...options,
          classify: (e) => (e === IGNORED ? 'ignore' : 'failure'),
        });
        let pending: Pending[] = [];
        // Trial calls running right now: admitted while half-open, in the current half-open episode.
        let episode = 0;
        breaker.onStateChange(() => episode++);
        const runningTrials = () => pending.filter((p) => p.admittedIn === `half_open:${episode}`).length;

        for (const s of steps) {
          if ('start' in s) {
            const call = deferred<string>();
            const controller = new AbortController();
            let admittedIn = '';
            const done = breaker
              .execute(
                () => {
                  admittedIn = `${breaker.state}:${episode}`;
                  return call.promise;
                },
                { signal: controller.signal },
              )
              .catch((e: unknown) => e);
            if (admittedIn) {
              const entry: Pending = {
                outcome: s.start,
                admittedIn,
                done,
                abort: () => controller.abort(new Error('caller abort')),
                settle: () => {
                  if (s.start === 'success') call.resolve('ok');
                  else if (s.start === 'failure') call.reject(new Error('down'));
                  else if (s.start === 'ignore') call.reject(IGNORED);
                },
              };
              pending.push(entry);
              void done.then(() => {
                pending = pending.filter((p) => p !== entry);
              });
            } else {
              expect(await done).toBeInstanceOf(CircuitOpenError);
            }
          } else if ('settle' in s) {
            pending[s.settle % Math.max(1, pending.length)]?.settle();
          } else if ('abort' in s) {
            pending[s.abort % Math.max(1, pending.length)]?.abort();
          } else {
            clock.advance(s.advance);
          }
          await flushPromises();

          const snap = breaker.snapshot();
          expect(AUTOMATIC.has(snap.state)).toBe(true);
          if (snap.state === 'closed') expect(snap.failuresInWindow).toBeLessThan(options.failMax);
          if (snap.state === 'half_open') {
            expect(runningTrials()).toBeLessThanOrEqual(options.halfOpenMaxCalls);
            // A free permit must really be free: a probe is admitted (and gives it back, ignored).
            if (runningTrials() < options.halfOpenMaxCalls) {
              let admitted = false;
              await breaker
                .execute(() => {
                  admitted = true;
                  return Promise.reject(IGNORED);
                })
                .catch(() => {});
              expect(admitted).toBe(true);
            }
          }
        }

        // Let every call end (hung ones by their deadline), then reach half-open: exactly
        // halfOpenMaxCalls fresh trials must be admitted — fewer means a leaked permit.
        for (const p of pending) p.settle();
        clock.advance(options.callTimeoutMs);
        await flushPromises();
        expect(pending).toHaveLength(0);
        if (breaker.state === 'closed') {
          for (let i = 0; i < options.failMax; i++)
            await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
        }
        if (breaker.state === 'open') clock.advance(breaker.snapshot().nextTrialAt! - clock.now());
        expect(breaker.state).toBe('half_open');
        let admitted = 0;
        const gate = deferred<void>();
        const trials = Array.from({ length: options.halfOpenMaxCalls + 2 }, () =>
          breaker
            .execute(() => {
              admitted++;
              return gate.promise;
            })
            .catch(() => {}),
        );
        expect(admitted).toBe(options.halfOpenMaxCalls);
        gate.resolve();
        await Promise.all(trials);
        expect(clock.pendingTimers).toBe(0);
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});
