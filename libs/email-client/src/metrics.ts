import { ensureMetric, type Logger } from '@gl-vcci/breaker-core';
import { loggedError, zeroedCounter } from '@gl-vcci/breaker-core/client';
import { Gauge, type Registry } from 'prom-client';
import { type OutboxStats, PRIORITIES, type Priority } from './outbox/outbox.js';

export const SENT_METRIC = 'greenlang_email_sent_total';
export const QUEUED_METRIC = 'greenlang_email_queued_total';
export const DEAD_LETTERED_METRIC = 'greenlang_email_dead_lettered_total';
export const QUEUE_DEPTH_METRIC = 'greenlang_email_queue_depth';
export const OLDEST_QUEUED_METRIC = 'greenlang_email_oldest_queued_seconds';

export interface EmailMetrics {
  sent(source: 'live' | 'queued'): void;
  queued(priority: Priority): void;
  deadLettered(): void;
}

/**
 * The e-mail counters, and two gauges read from the outbox at scrape time (no timer): its depth
 * by priority and the age of its oldest message. Labels are fixed values only. No registry, no
 * metrics. Two clients on one prom-client registry share the counters; the gauges read the first
 * client's outbox.
 */
export function createEmailMetrics(
  registry: Registry | undefined,
  stats: (() => Promise<OutboxStats>) | undefined,
  now: () => number,
  logger: Logger,
): EmailMetrics {
  const sent = zeroedCounter(registry, {
    name: SENT_METRIC,
    help: 'Mails SendGrid accepted, by how they went out (source: live at send time, queued from the outbox)',
    labelNames: ['source'],
    series: [{ source: 'live' }, { source: 'queued' }],
  });
  const queued = zeroedCounter(registry, {
    name: QUEUED_METRIC,
    help: 'Mails put in the outbox because SendGrid could not take them at send time, by priority',
    labelNames: ['priority'],
    series: PRIORITIES.map((priority) => ({ priority })),
  });
  const dead = zeroedCounter(registry, {
    name: DEAD_LETTERED_METRIC,
    help: 'Mails moved to the dead letters (out of attempts, or refused by SendGrid while draining)',
    labelNames: [],
    series: [{}],
  });
  if (registry && stats) {
    const read = async (): Promise<OutboxStats | undefined> => {
      try {
        return await stats();
      } catch (error) {
        logger.warn({ error: loggedError(error) }, 'e-mail outbox unreadable for the queue metrics');
        return undefined;
      }
    };
    ensureMetric(
      registry,
      QUEUE_DEPTH_METRIC,
      (registers) =>
        new Gauge({
          name: QUEUE_DEPTH_METRIC,
          help: 'Mails in the outbox (waiting or being sent), by priority',
          labelNames: ['priority'],
          registers,
          async collect() {
            const s = await read();
            if (s) for (const priority of PRIORITIES) this.set({ priority }, s.depth[priority]);
          },
        }),
    );
    ensureMetric(
      registry,
      OLDEST_QUEUED_METRIC,
      (registers) =>
        new Gauge({
          name: OLDEST_QUEUED_METRIC,
          help: 'Age in seconds of the oldest mail in the outbox; 0 when it is empty',
          registers,
          async collect() {
            const s = await read();
            if (s) this.set(s.oldestEnqueuedAt === undefined ? 0 : Math.max(0, (now() - s.oldestEnqueuedAt) / 1000));
          },
        }),
    );
  }
  return {
    sent: (source) => sent?.inc({ source }),
    queued: (priority) => queued?.inc({ priority }),
    deadLettered: () => dead?.inc(),
  };
}
