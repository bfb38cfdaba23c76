import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { storableText } from '../../common/validation';

export const AUDIT_EVENT_TYPES = [
  'api_key.created',
  'api_key.revoked',
  'api_key.rotated',
  'api_key.leaked',
  'api_key.expiring',
  'api_key.expired',
  'api_key.rotated_key_used',
  'api_key.used_from_new_address',
  'llm_key.provisioned',
  'llm_key.refreshed',
  'llm_key.leaked',
  'session.signed_in',
  'session.signed_out',
  'auth.failures',
  'webhook.created',
  'webhook.deleted',
  'webhook.disabled',
  'policy.updated',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Who did it, from where: taken from the request that made the change. */
export interface AuditActor {
  userId?: string;
  authType?: string;
  /** The API key that authenticated the request, if one did. */
  keyId?: number;
  address?: string;
  userAgent?: string;
  requestId?: string;
}

export interface AuditEvent {
  type: AuditEventType;
  actor: AuditActor;
  subject: { userId?: string; keyId?: number; keyName?: string; keyHint?: string };
  /** Small and never secret: names, reasons, counts. */
  details?: Record<string, unknown>;
}

export interface AuditEventRow {
  id: string;
  occurred_at: Date;
  type: AuditEventType;
  actor_user_id: string | null;
  actor_auth_type: string | null;
  actor_key_id: number | null;
  subject_user_id: string | null;
  subject_key_id: number | null;
  subject_key_name: string | null;
  subject_key_hint: string | null;
  client_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

/** The administration filter of the audit log. */
export interface AuditFilter {
  userIds?: string[];
  keyId?: number;
  type?: string;
  from?: Date;
  to?: Date;
}

const clip = (value: string | undefined, max: number): string | null => (value === undefined ? null : value.slice(0, max));

/** The `audit_events` table: append-only; the only deletes are the retention job's. */
@Injectable()
export class AuditEventsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Writes the event in `tx`, the transaction of the change it records: no change without its event. */
  async record(tx: EntityManager | DataSource, event: AuditEvent): Promise<void> {
    await tx.query(
      `INSERT INTO audit_events (type, actor_user_id, actor_auth_type, actor_key_id, subject_user_id, subject_key_id,
         subject_key_name, subject_key_hint, client_address, user_agent, request_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        event.type,
        clip(event.actor.userId, 255),
        clip(event.actor.authType, 16),
        event.actor.keyId ?? null,
        clip(event.subject.userId, 255),
        event.subject.keyId ?? null,
        clip(event.subject.keyName, 200),
        clip(event.subject.keyHint, 64),
        clip(event.actor.address, 64),
        clip(event.actor.userAgent, 256),
        clip(event.actor.requestId, 64),
        // Whatever a caller put in, the event is written: text jsonb cannot hold is made storable.
        JSON.stringify(event.details ?? {}, (_key, value: unknown) => (typeof value === 'string' ? storableText(value, 10_000) : value)),
      ],
    );
  }

  /**
   * `api_key.rotated_key_used` for a replaced key presented after its grace period, unless one
   * was recorded in the last hour (the transaction lock makes that check hold across instances).
   */
  async recordRotatedKeyUse(keyId: number, userId: string, address: string): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rotated-key-used:${keyId}`]);
      const inserted: unknown[] = await tx.query(
        `INSERT INTO audit_events (type, actor_auth_type, client_address, subject_user_id, subject_key_id, subject_key_name, subject_key_hint, details)
         SELECT 'api_key.rotated_key_used', 'api_key', $3, k.user_id, k.id, k.name, k.key_hint,
                jsonb_build_object('rotated_at', k.rotated_at, 'stopped_working_at', k.expires_at, 'replaced_by', k.replaced_by)
           FROM api_keys k
          WHERE k.id = $1 AND k.user_id = $2
            AND NOT EXISTS (SELECT 1 FROM audit_events e
                             WHERE e.subject_key_id = k.id AND e.type = 'api_key.rotated_key_used' AND e.occurred_at > now() - interval '1 hour')
         RETURNING id`,
        [keyId, userId, address.slice(0, 64)],
      );
      return inserted.length > 0;
    });
  }

  /** Events about `userId`, newest first, after the cursor id; optionally one key or one type. */
  async listForUser(userId: string, filter: { keyId?: number; type?: string; beforeId?: string; limit: number }): Promise<AuditEventRow[]> {
    const params: unknown[] = [userId];
    let where = 'subject_user_id = $1';
    if (filter.keyId !== undefined) {
      params.push(filter.keyId);
      where += ` AND subject_key_id = $${params.length}`;
    }
    if (filter.type !== undefined) {
      params.push(filter.type);
      where += ` AND type = $${params.length}`;
    }
    if (filter.beforeId !== undefined) {
      params.push(filter.beforeId);
      where += ` AND id < $${params.length}::bigint`;
    }
    params.push(filter.limit);
    return this.dataSource.query(`SELECT * FROM audit_events WHERE ${where} ORDER BY id DESC LIMIT $${params.length}`, params);
  }

  /**
   * Events about anyone (administration), newest first, after the cursor id: `userIds` match the
   * subject or the actor; `from` inclusive, `to` exclusive.
   */
  async listAll(filter: AuditFilter & { beforeId?: string; limit: number }): Promise<AuditEventRow[]> {
    const params: unknown[] = [];
    const add = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const parts: string[] = [];
    if (filter.userIds) {
      const ids = add(filter.userIds);
      parts.push(`(subject_user_id = ANY(${ids}::varchar[]) OR actor_user_id = ANY(${ids}::varchar[]))`);
    }
    if (filter.keyId !== undefined) parts.push(`subject_key_id = ${add(filter.keyId)}`);
    if (filter.type !== undefined) parts.push(`type = ${add(filter.type)}`);
    if (filter.from !== undefined) parts.push(`occurred_at >= ${add(filter.from)}::timestamptz`);
    if (filter.to !== undefined) parts.push(`occurred_at < ${add(filter.to)}::timestamptz`);
    if (filter.beforeId !== undefined) parts.push(`id < ${add(filter.beforeId)}::bigint`);
    const where = parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '';
    return this.dataSource.query(`SELECT * FROM audit_events ${where} ORDER BY id DESC LIMIT ${add(filter.limit)}`, params);
  }

  /**
   * The hourly housekeeping, on one instance at a time (whoever takes the transaction lock;
   * the others skip this round):
   * - `api_key.expiring` once per key and threshold: `warning` when it enters the warning
   *   window (EXPIRY_WARNING_DAYS) and `final` in its last day;
   * - `api_key.expired` once for every key found past its expiry;
   * - deletes events older than `retentionDays`, and retired LLM key hashes as old.
   * "Once" is kept by `api_key_expiry_notices` (a row per key and threshold, inserted with
   * ON CONFLICT DO NOTHING), not by the lock alone: it survives audit retention and restarts.
   * The events go through the audit table's trigger, so the owner's webhooks fire too.
   */
  async housekeeping(retentionDays: number, warningDays: number): Promise<{ expiring: number; expired: number; pruned: number } | null> {
    return this.dataSource.transaction(async (tx) => {
      const [{ locked }] = (await tx.query(`SELECT pg_try_advisory_xact_lock(hashtext('audit-housekeeping')) AS locked`)) as Array<{
        locked: boolean;
      }>;
      if (!locked) return null;
      // TypeORM answers INSERT … RETURNING with the rows, UPDATE/DELETE … RETURNING with [rows, count].
      const expiring: unknown[] = await tx.query(
        `WITH due AS (
           INSERT INTO api_key_expiry_notices (key_id, threshold)
           SELECT id, CASE WHEN expires_at <= now() + interval '1 day' THEN 'final' ELSE 'warning' END
             FROM api_keys
            WHERE revoked_at IS NULL AND rotated_at IS NULL
              AND expires_at > now() AND expires_at <= now() + make_interval(secs => $1 * 86400)
           ON CONFLICT DO NOTHING
           RETURNING key_id, threshold)
         INSERT INTO audit_events (type, actor_auth_type, subject_user_id, subject_key_id, subject_key_name, subject_key_hint, details)
         SELECT 'api_key.expiring', 'system', k.user_id, k.id, k.name, k.key_hint,
                jsonb_build_object('threshold', due.threshold, 'expires_at', k.expires_at,
                                   'hours_left', round(extract(epoch FROM k.expires_at - now()) / 3600.0)::int)
           FROM due JOIN api_keys k ON k.id = due.key_id
         RETURNING id`,
        [warningDays],
      );
      const expired: unknown[] = await tx.query(
        `WITH due AS (
           INSERT INTO api_key_expiry_notices (key_id, threshold)
           SELECT id, 'expired' FROM api_keys WHERE revoked_at IS NULL AND expires_at <= now()
           ON CONFLICT DO NOTHING
           RETURNING key_id)
         INSERT INTO audit_events (occurred_at, type, actor_auth_type, subject_user_id, subject_key_id, subject_key_name, subject_key_hint, details)
         SELECT k.expires_at, 'api_key.expired', 'system', k.user_id, k.id, k.name, k.key_hint,
                jsonb_build_object('reason', CASE WHEN k.rotated_at IS NULL THEN 'expiry_sweep' ELSE 'rotation_grace_ended' END)
           FROM due JOIN api_keys k ON k.id = due.key_id
         RETURNING id`,
      );
      const [pruned]: [unknown[], number] = await tx.query(
        `DELETE FROM audit_events WHERE occurred_at < now() - make_interval(days => $1) RETURNING id`,
        [retentionDays],
      );
      // The hashes of replaced and leaked LLM keys (a late leak report is still labelled ours) are
      // kept as long as the events that tell of them; never while a leaked key is still stored
      // (its owner has not fetched since): the entry is what keeps it from verifying.
      await tx.query(
        `DELETE FROM retired_llm_keys r
          WHERE r.retired_at < now() - make_interval(days => $1)
            AND NOT EXISTS (SELECT 1 FROM llm_keys k WHERE k.key_hash = r.key_hash)`,
        [retentionDays],
      );
      return { expiring: expiring.length, expired: expired.length, pruned: pruned.length };
    });
  }
}
