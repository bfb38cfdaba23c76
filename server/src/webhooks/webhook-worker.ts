import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { AuditEventsRepository } from '../database/repositories/audit-events.repository';
import { ClaimedDelivery, WebhooksRepository } from '../database/repositories/webhooks.repository';
import { Metrics } from '../metrics/metrics';
import { WebhookSender } from './webhook-sender';

/** Deliveries one instance sends at once (each to a different endpoint). */
const MAX_IN_FLIGHT = 32;

/**
 * Delivers the outbox. Every instance runs one; `SKIP LOCKED` lets them share the rows and the
 * lease hands a row to another worker if its claimer dies mid-send. Sends run concurrently, at
 * most one per endpoint per instance, and each poll tops the pool up: a receiver that answers
 * slowly (or never, until the timeout) delays only its own messages. A failed attempt is retried
 * on the configured schedule (Standard Webhooks' 5 s … 10 h, about 27 hours in all) with ±10 %
 * jitter, under the same `webhook-id`; when the schedule runs out the endpoint is disabled and
 * `webhook.disabled` is recorded.
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookWorker.name);
  private timer?: NodeJS.Timeout;
  private claiming?: Promise<number>;
  /** Endpoint id → the send in flight to it. */
  private readonly inFlight = new Map<number, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly webhooks: WebhooksRepository,
    private readonly sender: WebhookSender,
    private readonly audit: AuditEventsRepository,
    private readonly dataSource: DataSource,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.poll(), this.config.webhooks.pollIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.claiming;
    await Promise.all(this.inFlight.values());
  }

  /** Claims what is due (up to the pool's free room) and starts sending it. Returns how many it started. */
  poll(): Promise<number> {
    if (this.claiming || this.stopped) return this.claiming ?? Promise.resolve(0);
    this.claiming = this.claim()
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'webhook delivery round failed; the next one retries');
        return 0;
      })
      .finally(() => (this.claiming = undefined));
    return this.claiming;
  }

  /** Resolves when every send started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.claiming) {
      await this.claiming;
      await Promise.all(this.inFlight.values());
    }
  }

  private async claim(): Promise<number> {
    const room = MAX_IN_FLIGHT - this.inFlight.size;
    if (room <= 0) return 0;
    // The lease outlasts one attempt comfortably, so a live worker never loses its row.
    const lease = Math.ceil(this.config.webhooks.timeoutMs / 1000) * 3 + 5;
    const due = await this.webhooks.claimDue(room, lease, [...this.inFlight.keys()]);
    for (const delivery of due) {
      const send = this.attempt(delivery)
        .catch((error: unknown) => this.logger.warn({ err: error }, `webhook delivery ${delivery.id} failed to record`))
        .finally(() => this.inFlight.delete(delivery.endpoint_id));
      this.inFlight.set(delivery.endpoint_id, send);
    }
    return due.length;
  }

  private async attempt(delivery: ClaimedDelivery & { disabled_at?: Date | null }): Promise<void> {
    if (delivery.disabled_at) {
      await this.webhooks.abandonPending(delivery.id);
      return;
    }
    const outcome = await this.sender.send(
      { url: delivery.url, secretSealed: delivery.secret_sealed },
      { id: delivery.message_id, body: JSON.stringify(delivery.payload) },
    );
    if (outcome.ok) {
      this.metrics.webhookAttempts.labels('delivered').inc();
      await this.webhooks.delivered(delivery.id, delivery.endpoint_id, outcome.statusCode ?? 200);
      return;
    }
    this.metrics.webhookAttempts.labels(outcome.refused ? 'refused' : 'failed').inc();
    const delays = this.config.webhooks.retryDelaysSeconds;
    const next = delays[delivery.attempts - 1];
    const retryAt = next === undefined ? null : new Date(Date.now() + next * 1000 * (0.9 + Math.random() * 0.2));
    await this.dataSource.transaction(async (tx) => {
      const disabled = await this.webhooks.failed(
        tx,
        { id: delivery.id, endpointId: delivery.endpoint_id },
        { statusCode: outcome.statusCode, error: outcome.error, retryAt },
      );
      if (disabled) {
        await this.audit.record(tx, {
          type: 'webhook.disabled',
          actor: { authType: 'system' },
          subject: { userId: disabled.user_id },
          details: { webhook_id: disabled.id, url: disabled.url, reason: disabled.disabled_reason, last_error: outcome.error },
        });
      }
    });
    if (!retryAt)
      this.logger.warn(`webhook ${delivery.endpoint_id}: gave up on ${delivery.message_id} after ${delivery.attempts} attempts`);
  }
}
