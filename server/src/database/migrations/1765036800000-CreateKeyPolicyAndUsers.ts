import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The organisation's key policy (one row at most: absent, the environment's defaults apply) and
 * the usernames the identity provider gave for user ids, so the admin console can show owners.
 */
export class CreateKeyPolicyAndUsers1765036800000 implements MigrationInterface {
  name = 'CreateKeyPolicyAndUsers1765036800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE key_policy (
        singleton           boolean      PRIMARY KEY DEFAULT true CHECK (singleton),
        max_lifetime_days   integer      NOT NULL CHECK (max_lifetime_days BETWEEN 1 AND 36500),
        expiry_required     boolean      NOT NULL,
        max_keys_per_user   integer      NOT NULL CHECK (max_keys_per_user BETWEEN 1 AND 100000),
        allowed_scopes      text[]       NOT NULL,
        default_scopes      text[]       NOT NULL,
        expiry_warning_days integer      NOT NULL CHECK (expiry_warning_days BETWEEN 1 AND 90),
        updated_at          timestamptz  NOT NULL DEFAULT now(),
        updated_by          varchar(255)
      )`);
    await q.query(`
      CREATE TABLE known_users (
        user_id      varchar(255) PRIMARY KEY,
        username     varchar(255) NOT NULL,
        last_seen_at timestamptz  NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX known_users_username_idx ON known_users (lower(username))`);
    // The admin list sorts every user's keys by creation or last use.
    await q.query(`CREATE INDEX api_keys_active_created_idx ON api_keys (created_at DESC, id DESC) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX audit_events_type_idx ON audit_events (type, occurred_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit_events_type_idx`);
    await q.query(`DROP INDEX api_keys_active_created_idx`);
    await q.query(`DROP TABLE known_users`);
    await q.query(`DROP TABLE key_policy`);
  }
}
