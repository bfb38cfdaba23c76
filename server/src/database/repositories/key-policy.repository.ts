import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { lockUntilCommit } from '../advisory-lock';

/** The organisation's key policy as stored (the `key_policy` table's one row). */
export interface StoredKeyPolicy {
  maxLifetimeDays: number;
  expiryRequired: boolean;
  maxKeysPerUser: number;
  allowedScopes: string[];
  defaultScopes: string[];
  expiryWarningDays: number;
  updatedAt: Date;
  updatedBy: string | null;
}

interface KeyPolicyRow {
  max_lifetime_days: number;
  expiry_required: boolean;
  max_keys_per_user: number;
  allowed_scopes: string[];
  default_scopes: string[];
  expiry_warning_days: number;
  updated_at: Date;
  updated_by: string | null;
}

/** The `key_policy` table: at most one row; none means the environment's defaults apply. */
@Injectable()
export class KeyPolicyRepository {
  constructor(private readonly dataSource: DataSource) {}

  async read(tx: EntityManager | DataSource = this.dataSource): Promise<StoredKeyPolicy | undefined> {
    const rows: KeyPolicyRow[] = await tx.query(
      `SELECT max_lifetime_days, expiry_required, max_keys_per_user, allowed_scopes, default_scopes, expiry_warning_days,
              updated_at, updated_by FROM key_policy`,
    );
    const row = rows[0];
    return (
      row && {
        maxLifetimeDays: row.max_lifetime_days,
        expiryRequired: row.expiry_required,
        maxKeysPerUser: row.max_keys_per_user,
        allowedScopes: row.allowed_scopes,
        defaultScopes: row.default_scopes,
        expiryWarningDays: row.expiry_warning_days,
        updatedAt: row.updated_at,
        updatedBy: row.updated_by,
      }
    );
  }

  /** Serialises policy changes on every instance until `tx` ends (so "before" is what was replaced). */
  lock(tx: EntityManager): Promise<void> {
    return lockUntilCommit(tx, 'key_policy');
  }

  async write(tx: EntityManager, policy: Omit<StoredKeyPolicy, 'updatedAt'>): Promise<Date> {
    const rows: Array<{ updated_at: Date }> = await tx.query(
      `INSERT INTO key_policy (singleton, max_lifetime_days, expiry_required, max_keys_per_user, allowed_scopes, default_scopes,
                               expiry_warning_days, updated_at, updated_by)
       VALUES (true, $1, $2, $3, $4, $5, $6, now(), $7)
       ON CONFLICT (singleton) DO UPDATE SET max_lifetime_days = EXCLUDED.max_lifetime_days, expiry_required = EXCLUDED.expiry_required,
         max_keys_per_user = EXCLUDED.max_keys_per_user, allowed_scopes = EXCLUDED.allowed_scopes,
         default_scopes = EXCLUDED.default_scopes, expiry_warning_days = EXCLUDED.expiry_warning_days,
         updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
       RETURNING updated_at`,
      [
        policy.maxLifetimeDays,
        policy.expiryRequired,
        policy.maxKeysPerUser,
        policy.allowedScopes,
        policy.defaultScopes,
        policy.expiryWarningDays,
        policy.updatedBy,
      ],
    );
    return rows[0].updated_at;
  }
}

/** The `known_users` table: the username the identity provider last gave for a user id. */
@Injectable()
export class KnownUsersRepository {
  constructor(private readonly dataSource: DataSource) {}

  async remember(tx: EntityManager | DataSource, userId: string, username: string): Promise<void> {
    await tx.query(
      `INSERT INTO known_users (user_id, username, last_seen_at) VALUES ($1, $2, now())
       ON CONFLICT (user_id) DO UPDATE SET username = EXCLUDED.username, last_seen_at = now()
       WHERE known_users.username IS DISTINCT FROM EXCLUDED.username OR known_users.last_seen_at < now() - interval '1 hour'`,
      [userId.slice(0, 255), username.slice(0, 255)],
    );
  }

  /** User ids whose id or (case-insensitively) username is `user`. */
  async resolve(user: string): Promise<string[]> {
    const rows: Array<{ user_id: string }> = await this.dataSource.query(
      `SELECT user_id FROM known_users WHERE lower(username) = lower($1)`,
      [user],
    );
    return [user, ...rows.map((r) => r.user_id).filter((id) => id !== user)];
  }
}
