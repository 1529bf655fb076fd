import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import {
  type CircuitBreaker,
  type Clock,
  errorMessage,
  isFallbackExhaustedError,
  type Logger,
} from '@gl-vcci/breaker-core';
import { closingController, failover, loggedError } from '@gl-vcci/breaker-core/client';
import { classifyEmailError } from './classify.js';
import {
  EmailClosedError,
  EmailQueueError,
  EmailUnavailableError,
  isEmailClosedError,
  isEmailQueueError,
  isEmailRequestError,
  isEmailUpstreamError,
} from './errors.js';
import { checkMessage } from './message.js';
import { createEmailMetrics, type EmailMetrics } from './metrics.js';
import { CIRCUIT, DEFAULTS, type ResolvedOptions, resolveOptions } from './options.js';
import { FolderOutbox } from './outbox/folder.js';
import type { Claim, KnownMessage, Outbox, OutboxMessage, OutboxStats } from './outbox/outbox.js';
import { createSendGridTransport, type SendGridTransport } from './sendgrid.js';
import type {
  DrainReport,
  EmailClient,
  EmailClientOptions,
  EmailClientStatus,
  EmailMessage,
  SendResult,
} from './types.js';

/** How one queued message's attempt ended. */
type Delivery = 'sent' | 'refused' | 'retried' | 'dead' | 'closed';

const stopOn = (error: unknown) => isEmailRequestError(error) || isEmailClosedError(error);

/**
 * Mail through SendGrid behind the `email_service.sendgrid` circuit, with a durable outbox: every
 * mail is written to the outbox (fsynced) before it is sent, so a crash at any moment loses none;
 * what SendGrid cannot take now stays there and is drained later. Options and the file's settings
 * are checked here, once: a ConfigError names every bad one.
 */
export function createEmailClient(options: EmailClientOptions): EmailClient {
  return new EmailService(resolveOptions(options));
}

class EmailService implements EmailClient {
  readonly #breaker: CircuitBreaker;
  readonly #transport: SendGridTransport;
  readonly #outbox: Outbox | undefined;
  readonly #queue: ResolvedOptions['queue'];
  readonly #dir: string | undefined;
  readonly #metrics: EmailMetrics;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #closing = closingController();
  /** Sends of one id in flight in this process share one outcome. */
  readonly #inflight = new Map<string, Promise<SendResult>>();
  readonly #unsubscribe: () => void;
  #draining: Promise<DrainReport> | undefined;
  #timer: unknown;
  #lastMaintenance = Number.NEGATIVE_INFINITY;

  constructor(o: ResolvedOptions) {
    this.#clock = o.registry.clock;
    this.#logger = o.logger.child({ client: 'email' });
    this.#queue = o.queue;
    this.#breaker = o.registry.breaker(CIRCUIT, o.breaker, {
      classify: classifyEmailError,
      callTimeoutMs: DEFAULTS.callTimeoutMs,
    });
    const timeoutMs = this.#breaker.config.callTimeoutMs ?? DEFAULTS.callTimeoutMs;
    this.#transport = createSendGridTransport({ apiKey: o.apiKey, baseUrl: o.baseUrl, timeoutMs });
    if (o.queue.enabled) {
      this.#dir = o.outbox ? undefined : resolve(o.queue.dir);
      this.#outbox = o.outbox ?? new FolderOutbox({ dir: this.#dir! });
    }
    const outbox = this.#outbox;
    this.#metrics = createEmailMetrics(
      o.registry.metricsRegistry,
      outbox ? () => outbox.stats() : undefined,
      () => this.#clock.now(),
      this.#logger,
    );
    // Recovery drains the queue by itself; so does the interval, which also finds a recovery no send noticed.
    this.#unsubscribe = this.#breaker.onStateChange((change) => {
      if (change.to === 'closed' || change.to === 'half_open') this.#kick(`circuit ${change.to}`);
    });
    if (outbox && o.queue.drainIntervalMs > 0) this.#arm();
  }

  async send(input: EmailMessage): Promise<SendResult> {
    if (this.#closing.signal.aborted) throw new EmailClosedError();
    const { mail, priority, id: given } = checkMessage(input);
    const id = given ?? randomUUID();
    const running = this.#inflight.get(id);
    if (running) return running.then((r) => ({ ...r, duplicate: true as const }));
    const now = this.#clock.now();
    const message: OutboxMessage = { id, priority, mail, enqueuedAt: now, attempts: 0, nextAttemptAt: now };
    const sending = this.#send(message).finally(() => this.#inflight.delete(id));
    this.#inflight.set(id, sending);
    return sending;
  }

  processQueue(): Promise<DrainReport> {
    if (this.#closing.signal.aborted) return Promise.reject(new EmailClosedError());
    if (!this.#outbox) return Promise.resolve({ sent: 0, retried: 0, deadLettered: 0, stopped: undefined });
    this.#draining ??= this.#drain(this.#outbox).finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async requeueDeadLetters(): Promise<number> {
    if (this.#closing.signal.aborted) throw new EmailClosedError();
    if (!this.#outbox) return 0;
    const count = await this.#outbox.requeueDeadLetters(this.#clock.now());
    if (count > 0) this.#logger.info({ count }, `${count} dead-lettered mails put back in the queue`);
    return count;
  }

  queueStats(): Promise<OutboxStats> {
    if (!this.#outbox)
      return Promise.resolve({ depth: { high: 0, normal: 0, low: 0 }, oldestEnqueuedAt: undefined, deadLetters: 0 });
    return this.#outbox.stats();
  }

  status(): EmailClientStatus {
    return {
      circuits: { [CIRCUIT]: this.#breaker.state },
      closed: this.#closing.signal.aborted,
      queue: { enabled: this.#queue.enabled, dir: this.#dir },
    };
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new EmailClosedError());
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#unsubscribe();
    this.#transport.close();
    await this.#draining?.catch(() => {});
  }

  async #send(message: OutboxMessage): Promise<SendResult> {
    const outbox = this.#outbox;
    if (!outbox) return this.#sendUnqueued(message);
    let claim: Claim;
    try {
      const added = await outbox.add(message, this.#clock.now() + this.#queue.leaseMs);
      if (!added.added) return known(message.id, added.known);
      claim = added.claim;
    } catch (error) {
      throw this.#queueFailure('store the mail', message, error);
    }
    let failure: unknown;
    try {
      const { value } = await failover<SendResult>(
        [{ name: 'sendgrid', run: (signal) => this.#sendClaimed(claim, signal, (e) => (failure = e)) }],
        { stopOn, last: [{ source: 'queued', run: () => this.#queueClaimed(claim, failure) }] },
      );
      return value;
    } catch (error) {
      if (isFallbackExhaustedError(error)) throw error.cause; // the queue step's EmailQueueError
      throw error;
    }
  }

  /** The live step: the claimed mail sent through the breaker; undefined when the circuit refuses. */
  async #sendClaimed(
    claim: Claim,
    _signal: AbortSignal,
    failed: (e: unknown) => void,
  ): Promise<SendResult | undefined> {
    const outbox = this.#outbox!;
    const { message } = claim;
    let messageId: string | undefined;
    try {
      const outcome = await this.#breaker.tryExecute((signal) => this.#transport.send(message, this.#linked(signal)));
      if (!outcome.ok) return undefined;
      messageId = outcome.value;
    } catch (error) {
      if (isEmailRequestError(error)) {
        await outbox
          .discard(claim)
          .catch((e: unknown) =>
            this.#logger.warn(
              { id: message.id, error: loggedError(e) },
              'could not remove a refused mail from the outbox',
            ),
          );
        this.#logger.warn(
          { id: message.id, status: error.status },
          `SendGrid refused mail ${message.id}: ${error.message}`,
        );
      } else if (isEmailClosedError(error)) {
        // Best effort: when it fails, the lease's end offers the mail again.
        await this.#release(claim, { attempts: 0, nextAttemptAt: this.#clock.now() }).catch(() => {});
      } else {
        this.#credentials(error);
        failed(error);
      }
      throw error;
    }
    await this.#complete(claim, messageId);
    this.#metrics.sent('live');
    return { status: 'sent', id: message.id, messageId, source: 'live' };
  }

  /** The last step: the claimed mail released to the queue, with the live failure as its first attempt. */
  async #queueClaimed(claim: Claim, failure: unknown): Promise<SendResult> {
    const { message } = claim;
    if (failure === undefined) {
      await this.#release(claim, { attempts: 0, nextAttemptAt: this.#clock.now(), lastError: 'circuit open' });
    } else if ((await this.#retryOrDeadLetter(claim, failure)) === 'dead') {
      return { status: 'queued', id: message.id, source: 'queued' };
    }
    this.#metrics.queued(message.priority);
    this.#logger.info(
      {
        id: message.id,
        priority: message.priority,
        reason: failure === undefined ? 'circuit open' : errorMessage(failure),
      },
      `mail ${message.id} queued`,
    );
    return { status: 'queued', id: message.id, source: 'queued' };
  }

  async #sendUnqueued(message: OutboxMessage): Promise<SendResult> {
    try {
      const { value } = await failover<SendResult>(
        [
          {
            name: 'sendgrid',
            run: async () => {
              try {
                const outcome = await this.#breaker.tryExecute((s) => this.#transport.send(message, this.#linked(s)));
                if (!outcome.ok) throw new Error(`circuit ${outcome.refusal.circuitName} is ${outcome.refusal.state}`);
                this.#metrics.sent('live');
                return { status: 'sent', id: message.id, messageId: outcome.value, source: 'live' } as const;
              } catch (error) {
                this.#credentials(error);
                throw error;
              }
            },
          },
        ],
        { stopOn },
      );
      return value;
    } catch (error) {
      if (isFallbackExhaustedError(error)) throw new EmailUnavailableError(error);
      throw error;
    }
  }

  async #drain(outbox: Outbox): Promise<DrainReport> {
    const report: DrainReport = { sent: 0, retried: 0, deadLettered: 0, stopped: undefined };
    const now = this.#clock.now();
    if (now - this.#lastMaintenance >= 3_600_000) {
      this.#lastMaintenance = now;
      await outbox.maintain(now);
    }
    const refs = await outbox.due(now);
    let next = 0;
    const worker = async (probing = false) => {
      // While the circuit is not closed, one message at a time: half-open admits a single trial.
      while (report.stopped === undefined && next < refs.length && (!probing || this.#breaker.state !== 'closed')) {
        if (this.#closing.signal.aborted) {
          report.stopped = 'closed';
          return;
        }
        const ref = refs[next++]!;
        const t = this.#clock.now();
        const claim = await outbox.claim(ref, t, t + this.#queue.leaseMs);
        if (!claim) continue; // another drainer has it
        const delivery = await this.#deliver(claim).catch((error: unknown) => {
          if (isEmailQueueError(error)) return 'queue_failed' as const; // logged; the claim's lease brings the mail back
          throw error;
        });
        if (delivery === 'sent') report.sent++;
        else if (delivery === 'retried') report.retried++;
        else if (delivery === 'dead') report.deadLettered++;
        else report.stopped ??= delivery === 'refused' ? 'circuit_open' : delivery;
      }
    };
    await worker(true);
    await Promise.all(Array.from({ length: this.#queue.concurrency }, () => worker()));
    if (report.sent + report.deadLettered > 0 || report.stopped) {
      this.#logger.info(
        { ...report },
        `e-mail queue drained: ${report.sent} sent, ${report.retried} to retry, ${report.deadLettered} dead-lettered`,
      );
    }
    return report;
  }

  async #deliver(claim: Claim): Promise<Delivery> {
    const { message } = claim;
    if (claim.alreadySent) {
      // Sent and recorded before a crash kept its claim: finish the removal, never send it again.
      await this.#complete(claim, undefined);
      return 'sent';
    }
    const keep = { attempts: message.attempts, nextAttemptAt: message.nextAttemptAt, lastError: message.lastError };
    try {
      const outcome = await this.#breaker.tryExecute((signal) => this.#transport.send(message, this.#linked(signal)));
      if (!outcome.ok) {
        await this.#release(claim, keep);
        return 'refused';
      }
      await this.#complete(claim, outcome.value);
      this.#metrics.sent('queued');
      return 'sent';
    } catch (error) {
      if (isEmailClosedError(error)) {
        await this.#release(claim, { ...keep, nextAttemptAt: this.#clock.now() });
        return 'closed';
      }
      if (isEmailRequestError(error)) {
        // Checked before it was queued, refused now: kept as a dead letter, visible, never dropped.
        await this.#deadLetter(claim, message.attempts + 1, error);
        return 'dead';
      }
      this.#credentials(error);
      return this.#retryOrDeadLetter(claim, error);
    }
  }

  /** One more failed attempt: back to the queue after a backoff (Retry-After wins), or dead-lettered. */
  async #retryOrDeadLetter(claim: Claim, error: unknown): Promise<'retried' | 'dead'> {
    const attempts = claim.message.attempts + 1;
    if (attempts >= this.#queue.maxAttempts) {
      await this.#deadLetter(claim, attempts, error);
      return 'dead';
    }
    const backoff = Math.min(this.#queue.maxDelayMs, this.#queue.baseDelayMs * 2 ** (attempts - 1));
    const hinted = isEmailUpstreamError(error) ? (error.retryAfterMs ?? 0) : 0;
    const nextAttemptAt = this.#clock.now() + Math.max(backoff, hinted);
    await this.#release(claim, { attempts, nextAttemptAt, lastError: errorMessage(error) });
    return 'retried';
  }

  async #deadLetter(claim: Claim, attempts: number, error: unknown): Promise<void> {
    const lastError = errorMessage(error);
    try {
      await this.#outbox!.deadLetter(claim, { attempts, lastError });
    } catch (e) {
      throw this.#queueFailure('dead-letter the mail', claim.message, e);
    }
    this.#metrics.deadLettered();
    this.#logger.error(
      { id: claim.message.id, attempts, lastError },
      `mail ${claim.message.id} dead-lettered after ${attempts} attempts`,
    );
  }

  /** Throws EmailQueueError (logged) when the outbox fails; the mail is then still claimed on disk, offered again when its lease ends. */
  async #release(claim: Claim, update: Pick<OutboxMessage, 'attempts' | 'nextAttemptAt' | 'lastError'>) {
    try {
      await this.#outbox!.release(claim, update);
    } catch (error) {
      throw this.#queueFailure('return the mail to the queue', claim.message, error);
    }
  }

  async #complete(claim: Claim, messageId: string | undefined): Promise<void> {
    try {
      await this.#outbox!.complete(claim, messageId, this.#clock.now());
    } catch (error) {
      // Sent, but still claimed on disk: it will be sent once more when the lease ends (a traced duplicate).
      this.#logger.error(
        { id: claim.message.id, messageId, error: loggedError(error) },
        `mail ${claim.message.id} was sent but could not be removed from the outbox: it may be sent again`,
      );
    }
  }

  #queueFailure(what: string, message: OutboxMessage, error: unknown): EmailQueueError {
    const failure = new EmailQueueError(what, error);
    this.#logger.error({ id: message.id, dir: this.#dir, error: loggedError(error) }, failure.message);
    return failure;
  }

  #credentials(error: unknown): void {
    if (isEmailUpstreamError(error) && error.credentialsRefused) {
      this.#logger.error(
        { circuit: CIRCUIT, status: error.status },
        `credentials refused by SendGrid (HTTP ${error.status}): check the API key`,
      );
    }
  }

  /** The breaker's signal, also aborted by close(). */
  #linked(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, this.#closing.signal]);
  }

  #kick(why: string): void {
    if (this.#closing.signal.aborted || !this.#outbox) return;
    this.processQueue().catch((error: unknown) => {
      if (!isEmailClosedError(error))
        this.#logger.error({ why, error: loggedError(error) }, 'e-mail queue drain failed');
    });
  }

  #arm(): void {
    const handle = this.#clock.setTimeout(() => {
      this.#kick('interval');
      if (!this.#closing.signal.aborted) this.#arm();
    }, this.#queue.drainIntervalMs);
    (handle as { unref?: () => void } | null)?.unref?.();
    this.#timer = handle;
  }
}

function known(id: string, state: KnownMessage): SendResult {
  return state.state === 'sent'
    ? { status: 'sent', id, messageId: state.messageId, source: 'live', duplicate: true }
    : { status: 'queued', id, source: 'queued', duplicate: true };
}
