import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export type KeyStatusFilter = 'active' | 'expiring' | 'expired' | 'rotated';

/** A key of any user, for the admin list; `position` is the sort column to the microsecond (null: never used). */
export interface AdminKeyRow {
  id: number;
  user_id: string;
  username: string | null;
  name: string;
  key_hint: string;
  scopes: string[];
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  not_before: Date | null;
  rotated_at: Date | null;
  position: string | null;
}

export interface AdminKeyFilter {
  /** Owner ids (an id and the ids a username names). */
  userIds?: string[];
  /** Text in the name, hint or owner's username. */
  q?: string;
  status?: KeyStatusFilter;
  warningDays: number;
}

export interface AdminKeyPage {
  sort: 'created_at' | 'last_used_at';
  after?: { value: string | null; id: number };
  limit: number;
}

const MICROS = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** `%` and `_` in a search are characters, not wildcards. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Reads across every user, for the administration routes only: the keys list, its count and
 * the overview's aggregates. Every other read in the app is filtered by the caller's user id.
 */
@Injectable()
export class AdminQueriesRepository {
  constructor(private readonly dataSource: DataSource) {}

  private where(filter: AdminKeyFilter, params: unknown[]): string {
    const add = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const parts = ['k.revoked_at IS NULL'];
    if (filter.userIds) parts.push(`k.user_id = ANY(${add(filter.userIds)}::varchar[])`);
    if (filter.q) {
      const p = add(likePattern(filter.q));
      parts.push(`(k.name ILIKE ${p} OR k.key_hint ILIKE ${p} OR u.username ILIKE ${p})`);
    }
    if (filter.status) {
      const soon = `now() + make_interval(secs => ${add(filter.warningDays)}::int * 86400)`;
      parts.push(
        {
          rotated: 'k.rotated_at IS NOT NULL',
          expired: 'k.rotated_at IS NULL AND k.expires_at <= now()',
          expiring: `k.rotated_at IS NULL AND k.expires_at > now() AND k.expires_at <= ${soon}`,
          active: `k.rotated_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ${soon})`,
        }[filter.status],
      );
    }
    return parts.join(' AND ');
  }

  async listKeys(filter: AdminKeyFilter, page: AdminKeyPage): Promise<AdminKeyRow[]> {
    const params: unknown[] = [];
    let where = this.where(filter, params);
    const column = page.sort === 'last_used_at' ? 'k.last_used_at' : 'k.created_at';
    if (page.after) {
      const { value, id } = page.after;
      params.push(id);
      const after = `$${params.length}::int`;
      if (value === null) where += ` AND ${column} IS NULL AND k.id < ${after}`;
      else {
        params.push(value);
        const v = `$${params.length}::timestamptz`;
        where += ` AND (${column} < ${v} OR (${column} = ${v} AND k.id < ${after}) OR ${column} IS NULL)`;
      }
    }
    params.push(page.limit);
    return this.dataSource.query(
      `SELECT k.id, k.user_id, u.username, k.name, k.key_hint, k.scopes, k.created_at, k.last_used_at, k.expires_at, k.not_before,
              k.rotated_at, to_char(${column} AT TIME ZONE 'UTC', ${MICROS}) AS position
         FROM api_keys k LEFT JOIN known_users u ON u.user_id = k.user_id
        WHERE ${where}
        ORDER BY ${column} DESC NULLS LAST, k.id DESC LIMIT $${params.length}`,
      params,
    );
  }

  async countKeys(filter: AdminKeyFilter): Promise<number> {
    const params: unknown[] = [];
    const where = this.where(filter, params);
    const [{ count }] = (await this.dataSource.query(
      `SELECT count(*)::int AS count FROM api_keys k LEFT JOIN known_users u ON u.user_id = k.user_id WHERE ${where}`,
      params,
    )) as Array<{ count: number }>;
    return count;
  }

  /** Keys that have not been revoked, by the status the lists show. */
  async statusCounts(warningDays: number): Promise<Record<KeyStatusFilter, number>> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE rotated_at IS NULL AND (expires_at IS NULL OR expires_at > now() + make_interval(secs => $1 * 86400)))::int AS active,
              count(*) FILTER (WHERE rotated_at IS NULL AND expires_at > now() AND expires_at <= now() + make_interval(secs => $1 * 86400))::int AS expiring,
              count(*) FILTER (WHERE rotated_at IS NULL AND expires_at <= now())::int AS expired,
              count(*) FILTER (WHERE rotated_at IS NOT NULL)::int AS rotated
         FROM api_keys WHERE revoked_at IS NULL`,
      [warningDays],
    )) as Array<Record<KeyStatusFilter, number>>;
    return row;
  }

  /** Keys created per UTC day, the last `days` days (today included), zeros too. */
  async createdPerDay(days: number): Promise<Array<{ day: Date; count: number }>> {
    return this.dataSource.query(
      `SELECT d.day, count(k.id)::int AS count
         FROM generate_series(date_trunc('day', now(), 'UTC') - make_interval(days => $1 - 1), date_trunc('day', now(), 'UTC'), interval '1 day') AS d(day)
         LEFT JOIN api_keys k ON k.created_at >= d.day AND k.created_at < d.day + interval '1 day'
        GROUP BY d.day ORDER BY d.day`,
      [days],
    );
  }

  /** Refused authentications per hour, the last `hours` hours, from the audit log's `auth.failures` events. */
  async authFailuresPerHour(hours: number): Promise<Array<{ hour: Date; count: number }>> {
    return this.dataSource.query(
      `SELECT h.hour, COALESCE(sum((e.details->>'count')::int), 0)::int AS count
         FROM generate_series(date_trunc('hour', now()) - make_interval(hours => $1 - 1), date_trunc('hour', now()), interval '1 hour') AS h(hour)
         LEFT JOIN audit_events e ON e.type = 'auth.failures' AND e.occurred_at >= h.hour AND e.occurred_at < h.hour + interval '1 hour'
        GROUP BY h.hour ORDER BY h.hour`,
      [hours],
    );
  }

  /** The keys with the most requests in the last `days` days (api_key_usage_hourly). */
  async topKeys(
    days: number,
    limit: number,
  ): Promise<
    Array<{
      key_id: number;
      user_id: string | null;
      username: string | null;
      name: string | null;
      key_hint: string | null;
      requests: number;
      failures: number;
    }>
  > {
    return this.dataSource.query(
      `SELECT t.key_id, k.user_id, u.username, k.name, k.key_hint, t.requests, t.failures
         FROM (SELECT key_id, sum(requests)::int AS requests, sum(failures)::int AS failures FROM api_key_usage_hourly
                WHERE hour >= now() - make_interval(days => $1) GROUP BY key_id ORDER BY sum(requests) DESC, key_id LIMIT $2) t
         LEFT JOIN api_keys k ON k.id = t.key_id LEFT JOIN known_users u ON u.user_id = k.user_id
        ORDER BY t.requests DESC, t.key_id`,
      [days, limit],
    );
  }
}
