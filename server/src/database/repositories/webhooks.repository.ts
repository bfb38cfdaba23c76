import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface WebhookEndpointRow {
  id: number;
  user_id: string;
  url: string;
  description: string;
  events: string[];
  secret_sealed: string;
  created_at: Date;
  consecutive_failures: number;
  disabled_at: Date | null;
  disabled_reason: string | null;
}

export interface WebhookDeliveryRow {
  id: string;
  message_id: string;
  endpoint_id: number;
  event_type: string;
  payload: Record<string, unknown>;
  created_at: Date;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
}

/** A delivery claimed by one worker, with what it needs to send it. */
export interface ClaimedDelivery extends WebhookDeliveryRow {
  url: string;
  secret_sealed: string;
}

/**
 * `webhook_endpoints` and the `webhook_deliveries` outbox. Rows enter the outbox from the
 * trigger on `audit_events` (same transaction as the change) or from `enqueue` (test sends).
 */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly dataSource: DataSource) {}

  async create(
    tx: EntityManager,
    endpoint: { userId: string; url: string; description: string; events: string[]; secretSealed: string },
  ): Promise<WebhookEndpointRow> {
    const [row] = (await tx.query(
      `INSERT INTO webhook_endpoints (user_id, url, description, events, secret_sealed) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [endpoint.userId, endpoint.url, endpoint.description, endpoint.events, endpoint.secretSealed],
    )) as WebhookEndpointRow[];
    return row;
  }

  async countForUser(tx: EntityManager, userId: string): Promise<number> {
    const [{ n }] = (await tx.query(`SELECT count(*)::int AS n FROM webhook_endpoints WHERE user_id = $1`, [userId])) as Array<{
      n: number;
    }>;
    return n;
  }

  listForUser(userId: string): Promise<WebhookEndpointRow[]> {
    return this.dataSource.query(`SELECT * FROM webhook_endpoints WHERE user_id = $1 ORDER BY id DESC`, [userId]);
  }

  async findForUser(userId: string, id: number): Promise<WebhookEndpointRow | undefined> {
    const rows = (await this.dataSource.query(`SELECT * FROM webhook_endpoints WHERE user_id = $1 AND id = $2`, [
      userId,
      id,
    ])) as WebhookEndpointRow[];
    return rows[0];
  }

  /** Deletes the endpoint and, by cascade, its pending deliveries. False when it is not the user's. */
  async delete(userId: string, id: number): Promise<boolean> {
    const [rows] = (await this.dataSource.query(`DELETE FROM webhook_endpoints WHERE user_id = $1 AND id = $2 RETURNING id`, [
      userId,
      id,
    ])) as [unknown[], number];
    return rows.length > 0;
  }

  /** Sets an endpoint working again (after the owner fixed the receiver). */
  async enable(userId: string, id: number): Promise<boolean> {
    const [rows] = (await this.dataSource.query(
      `UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, consecutive_failures = 0
        WHERE user_id = $1 AND id = $2 RETURNING id`,
      [userId, id],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  async enqueue(endpointId: number, messageId: string, eventType: string, payload: Record<string, unknown>): Promise<WebhookDeliveryRow> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO webhook_deliveries (message_id, endpoint_id, event_type, payload) VALUES ($1, $2, $3, $4) RETURNING *`,
      [messageId, endpointId, eventType, JSON.stringify(payload)],
    )) as WebhookDeliveryRow[];
    return row;
  }

  deliveries(endpointId: number, limit: number, beforeId?: string): Promise<WebhookDeliveryRow[]> {
    const params: unknown[] = [endpointId, limit];
    let where = 'endpoint_id = $1';
    if (beforeId !== undefined) {
      params.push(beforeId);
      where += ` AND id < $3::bigint`;
    }
    return this.dataSource.query(`SELECT * FROM webhook_deliveries WHERE ${where} ORDER BY id DESC LIMIT $2`, params);
  }

  /**
   * Claims up to `limit` due deliveries for this worker: `SKIP LOCKED` so concurrent workers
   * take different rows, and a lease (`next_attempt_at` moved ahead) so a row claimed by a
   * worker that dies is retried by another once the lease ends, with the same `message_id`.
   */
  async claimDue(limit: number, leaseSeconds: number, busyEndpoints: readonly number[]): Promise<ClaimedDelivery[]> {
    return this.dataSource.transaction(async (tx) => {
      // The oldest due rows no other worker holds, skipping endpoints this worker is already
      // sending to; then at most one row per endpoint, so one slow or flooded receiver cannot
      // hold the queue of everyone else. The rows not taken stay free for the next round.
      const due = (await tx.query(
        `SELECT id, endpoint_id FROM webhook_deliveries
          WHERE status = 'pending' AND next_attempt_at <= now() AND NOT (endpoint_id = ANY($2::int[]))
          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit * 10, busyEndpoints],
      )) as Array<{ id: string; endpoint_id: number }>;
      const seen = new Set<number>();
      const ids = due
        .filter((row) => !seen.has(row.endpoint_id) && seen.add(row.endpoint_id))
        .slice(0, limit)
        .map((row) => row.id);
      if (ids.length === 0) return [];
      const [rows] = (await tx.query(
        `UPDATE webhook_deliveries d
            SET next_attempt_at = now() + make_interval(secs => $2), attempts = d.attempts + 1, last_attempt_at = now()
           FROM webhook_endpoints w
          WHERE w.id = d.endpoint_id AND d.id = ANY($1::bigint[])
          RETURNING d.*, w.url, w.secret_sealed, w.disabled_at`,
        [ids, leaseSeconds],
      )) as [Array<ClaimedDelivery & { disabled_at: Date | null }>, number];
      return rows;
    });
  }

  /** Whether the endpoint already has a test message waiting (one at a time). */
  async hasPendingTest(endpointId: number): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM webhook_deliveries WHERE endpoint_id = $1 AND event_type = 'webhook.test' AND status = 'pending' LIMIT 1`,
      [endpointId],
    );
    return rows.length > 0;
  }

  /** Records a successful attempt; the endpoint's failure streak ends. */
  async delivered(id: string, endpointId: number, statusCode: number): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.query(`UPDATE webhook_deliveries SET status = 'delivered', last_status_code = $2, last_error = NULL WHERE id = $1`, [
        id,
        statusCode,
      ]);
      await tx.query(`UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1`, [endpointId]);
    });
  }

  /**
   * Records a failed attempt: retried at `retryAt`, or given up when there is none (the
   * endpoint is then disabled; true when this call disabled it).
   */
  async failed(
    tx: EntityManager,
    delivery: { id: string; endpointId: number },
    outcome: { statusCode: number | null; error: string; retryAt: Date | null },
  ): Promise<WebhookEndpointRow | undefined> {
    await tx.query(
      `UPDATE webhook_deliveries SET status = $2, next_attempt_at = COALESCE($3, next_attempt_at), last_status_code = $4, last_error = $5
        WHERE id = $1`,
      [delivery.id, outcome.retryAt ? 'pending' : 'failed', outcome.retryAt, outcome.statusCode, outcome.error.slice(0, 300)],
    );
    await tx.query(`UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 WHERE id = $1`, [delivery.endpointId]);
    if (outcome.retryAt) return undefined;
    const [rows] = (await tx.query(
      `UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = $2
        WHERE id = $1 AND disabled_at IS NULL RETURNING *`,
      [delivery.endpointId, 'Deliveries kept failing for the whole retry schedule'],
    )) as [WebhookEndpointRow[], number];
    return rows[0];
  }

  /** A disabled endpoint's remaining deliveries stop; they are kept in the log as failed. */
  async abandonPending(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint disabled' WHERE id = $1`, [id]);
  }
}
