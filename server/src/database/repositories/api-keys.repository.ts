import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { lockUntilCommit } from '../advisory-lock';
import { ApiKey } from '../entities/api-key.entity';

/** An API key as the features see it: never its hash. */
/** A key just revoked or retired: what the audit log and the caches need of it. */
export interface RetiredKey {
  id: number;
  name: string;
  keyHint: string;
  keyHash: Buffer;
}

export interface ApiKeyRecord {
  id: number;
  userId: string;
  name: string;
  keyHint: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  notBefore: Date | null;
  /** Set once the key was replaced by rotation; it works until `expiresAt`. */
  rotatedAt?: Date | null;
  /** Requests a minute this key may make; null for no per-key limit. */
  rateLimitPerMinute?: number | null;
}

/** What verification needs of a key, looked up by its keyed hash. */
export interface ApiKeyCredentialRow {
  id: number;
  userId: string;
  name: string;
  scopes: string[];
  expiresAt: Date | null;
  notBefore: Date | null;
  revokedAt: Date | null;
  rotatedAt: Date | null;
  rateLimitPerMinute: number | null;
}

export type NewApiKey = Omit<ApiKeyRecord, 'id' | 'lastUsedAt'> & { keyHash: Buffer };

/** A row of `api_keys` as the driver reads it (without the hash). */
export interface ApiKeyRow {
  id: number;
  user_id: string;
  name: string;
  key_hint: string;
  scopes: string[];
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  not_before: Date | null;
  revoked_at: Date | null;
  rotated_at: Date | null;
  rate_limit_per_minute: number | null;
}

const RECORD_COLUMNS =
  'id, user_id, name, key_hint, scopes, created_at, last_used_at, expires_at, not_before, rotated_at, rate_limit_per_minute';

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    keyHint: row.key_hint,
    scopes: row.scopes,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    notBefore: row.not_before,
    rotatedAt: row.rotated_at,
    rateLimitPerMinute: row.rate_limit_per_minute,
  };
}

/**
 * The `api_keys` table: all its SQL and its mapping. Plain SQL rather than entity hydration on
 * the lists and the hot path (a user's 1,000 keys, a lookup per cache miss); methods that must
 * run inside a caller's transaction take its `EntityManager`.
 */
export type KeyStatusFilter = 'active' | 'expiring' | 'expired' | 'rotated';

/**
 * The list's `status` in SQL, as ApiKeysService.statusOf computes it. `param` is the number of
 * the next query parameter; `params` what it takes (the warning window, where needed).
 */
function statusCondition(
  filter: { status: KeyStatusFilter; warningDays: number },
  param: number,
  table = '',
): { sql: string; params: unknown[] } {
  const rotatedAt = `${table}rotated_at`;
  const expiresAt = `${table}expires_at`;
  // Whole days of 86,400 s, as the service counts them (`days =>` would follow the session's DST).
  const warning = `now() + make_interval(secs => $${param} * 86400)`;
  switch (filter.status) {
    case 'rotated':
      return { sql: `AND ${rotatedAt} IS NOT NULL`, params: [] };
    case 'expired':
      return { sql: `AND ${rotatedAt} IS NULL AND ${expiresAt} <= now()`, params: [] };
    case 'expiring':
      return { sql: `AND ${rotatedAt} IS NULL AND ${expiresAt} > now() AND ${expiresAt} <= ${warning}`, params: [filter.warningDays] };
    case 'active':
      return { sql: `AND ${rotatedAt} IS NULL AND (${expiresAt} IS NULL OR ${expiresAt} > ${warning})`, params: [filter.warningDays] };
  }
}

/** A list as the API answers it, and what decides how long it stays true. */
export interface ListJson {
  body: string;
  /** The listed keys, in order. */
  ids: number[];
  /** Whole list only: each key's JSON length in bytes, and its position (creation time to the microsecond). */
  sizes?: number[];
  positions?: string[];
  /** Where the next page starts, when one follows. */
  next?: { createdAt: string; id: number };
  /** The user's list version read in the same statement (see the ApiKeyListVersions migration). */
  version: string | null;
  /** Milliseconds from the statement's now() to the next status change by the clock alone (Infinity: none). */
  validFor: number;
}

/** A timestamp as JavaScript's `toISOString` writes it (UTC, milliseconds truncated, `Z`). */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** A list position: the creation time to the microsecond (a JavaScript Date keeps milliseconds only). */
const POSITION = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * A user's active keys as the API answers them, newest first, built by PostgreSQL: the JSON text
   * of ApiKeyResponse[] (the fields of ApiKeysService.toResponse, in its order; `status` as its
   * statusOf decides, with a warning window of `warningDays`). A thousand keys then cost Node one
   * string instead of parsing 11,000 values, allocating 1,000 records and serialising them back.
   *
   * Without `page`, the whole list (the seed's plain array). With it, `limit` keys after the
   * position (created_at to the microsecond, id) of the previous page's last key, and `next`, the
   * position of this page's last key when more follow (the partial index covers the order).
   * `last_used_at` is the database's: the caller adds what this instance has not written yet,
   * for which `ids` names the keys listed.
   */
  async listActiveJson(
    userId: string,
    warningDays: number,
    options: { status?: KeyStatusFilter; page?: { limit: number; after?: { createdAt: string; id: number } } } = {},
  ): Promise<ListJson> {
    const { status, page } = options;
    const filter = status ? statusCondition({ status, warningDays }, 6) : { sql: '', params: [] };
    // One more row than the page, to know whether a next page exists; LIMIT NULL is no limit.
    const [row]: Array<{
      body: string;
      ids: string | null;
      sizes: string | null;
      positions: string | null;
      next: string | null;
      version: string | null;
      valid_for: number | null;
    }> = await this.dataSource.query(
      `SELECT '[' || coalesce(string_agg(q.j, ',' ORDER BY q.n) FILTER (WHERE $3::int IS NULL OR q.n <= $3), '') || ']' AS body,
              string_agg(q.id::text, ',' ORDER BY q.n) FILTER (WHERE $3::int IS NULL OR q.n <= $3) AS ids,
              -- For the whole list, where each key's JSON lies in the body and its position, so pages can be cut from it.
              string_agg(octet_length(q.j)::text, ',' ORDER BY q.n) FILTER (WHERE $3::int IS NULL) AS sizes,
              string_agg(q.position, ',' ORDER BY q.n) FILTER (WHERE $3::int IS NULL) AS positions,
              CASE WHEN count(*) > $3 THEN max(q.position || ' ' || q.id) FILTER (WHERE q.n = $3) END AS next,
              (SELECT version FROM api_key_list_versions WHERE user_id = $1) AS version,
              -- How long until a listed key's status changes with the clock (expiring, then expired): a
              -- duration, not a time, so the app's clock and the database's need not agree.
              floor(extract(epoch FROM least(
                min(q.expires_at - make_interval(secs => $2 * 86400)) FILTER (WHERE q.expires_at - make_interval(secs => $2 * 86400) > now()),
                min(q.expires_at) FILTER (WHERE q.expires_at > now())) - now()) * 1000)::float8 AS valid_for
         FROM (SELECT p.id, p.n, p.expires_at, ${POSITION('p.created_at')} AS position, row_to_json(r)::text AS j
                 FROM (SELECT id, name, key_hint, scopes, created_at, last_used_at, expires_at, not_before, rotated_at, rate_limit_per_minute,
                              row_number() OVER (ORDER BY created_at DESC, id DESC) AS n
                         FROM api_keys
                        WHERE user_id = $1 AND revoked_at IS NULL
                          AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::int)) ${filter.sql}
                        ORDER BY created_at DESC, id DESC LIMIT $3 + 1) p
                CROSS JOIN LATERAL (SELECT p.id, p.name, p.key_hint, p.scopes,
                        ${iso('p.created_at')} AS created_at, ${iso('p.last_used_at')} AS last_used_at,
                        ${iso('p.expires_at')} AS expires_at, ${iso('p.not_before')} AS not_before,
                        CASE WHEN p.rotated_at IS NOT NULL THEN 'rotated'
                             WHEN p.expires_at <= now() THEN 'expired'
                             WHEN p.expires_at <= now() + make_interval(secs => $2 * 86400) THEN 'expiring'
                             ELSE 'active' END AS status,
                        p.rate_limit_per_minute) r) q`,
      [userId, warningDays, page?.limit ?? null, page?.after?.createdAt ?? null, page?.after?.id ?? 0, ...filter.params],
    );
    const next = row.next?.split(' ');
    return {
      body: row.body,
      ids: row.ids ? row.ids.split(',').map(Number) : [],
      sizes: page ? undefined : row.sizes ? row.sizes.split(',').map(Number) : [],
      positions: page ? undefined : row.positions ? row.positions.split(',') : [],
      next: next ? { createdAt: next[0], id: Number(next[1]) } : undefined,
      version: row.version,
      validFor: row.valid_for ?? Infinity,
    };
  }

  /** The user's list version, which the database replaces on every change to their keys (null: the user never had one). */
  async listVersion(userId: string): Promise<string | null> {
    const rows: Array<{ version: string }> = await this.dataSource.query('SELECT version FROM api_key_list_versions WHERE user_id = $1', [
      userId,
    ]);
    return rows[0]?.version ?? null;
  }

  /** Serialises a user's creates, on every instance, until `tx` ends (so the cap holds). */
  lockUser(tx: EntityManager, userId: string): Promise<void> {
    return lockUntilCommit(tx, `api_keys:${userId}`);
  }

  /** Keys that can still authenticate (not revoked, not expired): they hold a slot of the cap. */
  async countUsable(tx: EntityManager, userId: string): Promise<number> {
    const [{ count }] = await tx.query(
      'SELECT count(*)::int AS count FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())',
      [userId],
    );
    return count as number;
  }

  /** Whether a key that can still authenticate holds this name. */
  async usableNameExists(tx: EntityManager, userId: string, name: string): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      'SELECT 1 FROM api_keys WHERE user_id = $1 AND name = $2 AND revoked_at IS NULL AND rotated_at IS NULL AND (expires_at IS NULL OR expires_at > now())',
      [userId, name],
    );
    return rows.length > 0;
  }

  /**
   * Retires an expired key that still holds `name` in the unique index, so the name can be
   * used again; the retired key (id, hint, stored hash), or undefined when there was none.
   */
  async retireExpiredNamed(tx: EntityManager, userId: string, name: string): Promise<RetiredKey | undefined> {
    const [rows]: [Array<{ id: number; key_hint: string; key_hash: Buffer }>, number] = await tx.query(
      `UPDATE api_keys SET revoked_at = now()
        WHERE user_id = $1 AND name = $2 AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at <= now() RETURNING id, key_hint, key_hash`,
      [userId, name],
    );
    return rows[0] && { id: rows[0].id, name, keyHint: rows[0].key_hint, keyHash: rows[0].key_hash };
  }

  async insert(tx: EntityManager, key: NewApiKey): Promise<ApiKeyRecord> {
    const saved = await tx.getRepository(ApiKey).save(tx.getRepository(ApiKey).create({ ...key, lastUsedAt: null, revokedAt: null }));
    return { ...key, id: saved.id, lastUsedAt: null };
  }

  /** Marks one of the user's active keys revoked; the key (for the audit log and the caches), or undefined when there is none. */
  async revoke(tx: EntityManager, userId: string, id: number): Promise<RetiredKey | undefined> {
    // TypeORM answers an UPDATE … RETURNING as [rows, affected count].
    const [rows]: [Array<{ name: string; key_hint: string; key_hash: Buffer }>, number] = await tx.query(
      'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING name, key_hint, key_hash',
      [id, userId],
    );
    return rows[0] && { id, name: rows[0].name, keyHint: rows[0].key_hint, keyHash: rows[0].key_hash };
  }

  /**
   * Revokes any users' active keys among `ids` in one statement (administration), in the order of
   * `ids`. One statement, not one per key: a transaction that updates two existing keys of a user
   * in separate statements holds that user's list version (the ApiKeyListVersions trigger) while
   * waiting for the second row, which a last-used batch may hold while waiting for the version.
   */
  async revokeManyAnyOwner(tx: EntityManager, ids: number[]): Promise<Array<RetiredKey & { userId: string }>> {
    const [rows]: [Array<{ id: number; user_id: string; name: string; key_hint: string; key_hash: Buffer }>, number] = await tx.query(
      'UPDATE api_keys SET revoked_at = now() WHERE id = ANY($1::int[]) AND revoked_at IS NULL RETURNING id, user_id, name, key_hint, key_hash',
      [ids],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.flatMap((id) => {
      const row = byId.get(id);
      return row ? [{ id, userId: row.user_id, name: row.name, keyHint: row.key_hint, keyHash: row.key_hash }] : [];
    });
  }

  /** One of the user's keys, locked until the transaction ends (for rotation). */
  async findForRotation(tx: EntityManager, userId: string, id: number): Promise<(ApiKeyRecord & { keyHash: Buffer }) | undefined> {
    const rows: Array<ApiKeyRow & { key_hash: Buffer }> = await tx.query(
      `SELECT ${RECORD_COLUMNS}, key_hash FROM api_keys WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL FOR UPDATE`,
      [id, userId],
    );
    return rows[0] && { ...toRecord(rows[0]), keyHash: rows[0].key_hash };
  }

  /** Marks a key replaced: it gives up its name and stops working at `expiresAt`. */
  async markRotated(tx: EntityManager, id: number, expiresAt: Date): Promise<void> {
    await tx.query('UPDATE api_keys SET rotated_at = now(), expires_at = $2 WHERE id = $1', [id, expiresAt]);
  }

  async linkReplacement(tx: EntityManager, id: number, replacedBy: number): Promise<void> {
    await tx.query('UPDATE api_keys SET replaced_by = $2 WHERE id = $1', [id, replacedBy]);
  }

  /** Revokes every active key among these stored hashes (one leak report, one statement). */
  async revokeManyByHash(tx: EntityManager, keyHashes: Buffer[]): Promise<Array<RetiredKey & { userId: string }>> {
    const [rows]: [Array<{ id: number; user_id: string; name: string; key_hint: string; key_hash: Buffer }>, number] = await tx.query(
      `UPDATE api_keys SET revoked_at = now() WHERE key_hash = ANY($1::bytea[]) AND revoked_at IS NULL
       RETURNING id, user_id, name, key_hint, key_hash`,
      [keyHashes],
    );
    return rows.map((row) => ({ id: row.id, userId: row.user_id, name: row.name, keyHint: row.key_hint, keyHash: row.key_hash }));
  }

  /** Revokes whichever active key has this stored hash (a leak report names the key, not its owner). */
  async revokeByHash(tx: EntityManager, keyHash: Buffer): Promise<(RetiredKey & { userId: string }) | undefined> {
    const [rows]: [Array<{ id: number; user_id: string; name: string; key_hint: string }>, number] = await tx.query(
      'UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1 AND revoked_at IS NULL RETURNING id, user_id, name, key_hint',
      [keyHash],
    );
    const row = rows[0];
    return row && { id: row.id, userId: row.user_id, name: row.name, keyHint: row.key_hint, keyHash };
  }

  /** Takes the key's notice for `threshold` (see api_key_expiry_notices); false when it was already taken. */
  async claimExpiryNotice(tx: EntityManager, keyId: number, threshold: 'warning' | 'final' | 'expired'): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO api_key_expiry_notices (key_id, threshold) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING key_id`,
      [keyId, threshold],
    );
    return rows.length > 0;
  }

  /** Whether key `id` exists, deleted or not (an administrator's usage view). */
  async exists(id: number): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM api_keys WHERE id = $1', [id]);
    return rows.length > 0;
  }

  /** Whether the user owns key `id`, deleted or not (usage stays readable after a delete). */
  async ownedBy(userId: string, id: number): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM api_keys WHERE id = $1 AND user_id = $2', [id, userId]);
    return rows.length > 0;
  }

  /** Counts for the metrics gauges, in one pass over the user-independent partial index. */
  async stateCounts(warningDays: number): Promise<{ active: number; expired: number; expiringSoon: number }> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE expires_at IS NULL OR expires_at > now())::int AS active,
              count(*) FILTER (WHERE expires_at <= now())::int AS expired,
              count(*) FILTER (WHERE expires_at > now() AND expires_at <= now() + make_interval(secs => $1 * 86400))::int AS expiring_soon
         FROM api_keys WHERE revoked_at IS NULL`,
      [warningDays],
    )) as Array<{ active: number; expired: number; expiring_soon: number }>;
    return { active: row.active, expired: row.expired, expiringSoon: row.expiring_soon };
  }

  /**
   * The verifier's lookup on a cache miss: one indexed SELECT by keyed hash, as a named
   * prepared statement (parsed and planned once per connection, not per request).
   */
  async findByHash(keyHash: Buffer): Promise<ApiKeyCredentialRow | undefined> {
    const { rows } = await this.pool().query<ApiKeyRow>({
      name: 'api_keys_by_hash_v3',
      text: 'SELECT id, user_id, name, scopes, expires_at, not_before, revoked_at, rotated_at, rate_limit_per_minute FROM api_keys WHERE key_hash = $1',
      values: [keyHash],
    });
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      userId: row.user_id,
      name: row.name,
      scopes: row.scopes,
      expiresAt: row.expires_at,
      notBefore: row.not_before,
      revokedAt: row.revoked_at,
      rotatedAt: row.rotated_at,
      rateLimitPerMinute: row.rate_limit_per_minute,
    };
  }

  /** One statement for a batch of uses; a newer time already stored wins. */
  async recordLastUse(uses: Array<[id: number, atMs: number]>): Promise<void> {
    await this.pool().query({
      name: 'api_keys_record_last_use',
      text: `UPDATE api_keys AS k SET last_used_at = GREATEST(COALESCE(k.last_used_at, v.at), v.at)
               FROM unnest($1::int[], $2::timestamptz[]) AS v(id, at) WHERE k.id = v.id`,
      values: [uses.map(([id]) => id), uses.map(([, at]) => new Date(at).toISOString())],
    });
  }

  /** The driver's own pool, for named prepared statements (TypeORM's query() has none). */
  private pool(): Pool {
    return (this.dataSource.driver as PostgresDriver).master as Pool;
  }
}
