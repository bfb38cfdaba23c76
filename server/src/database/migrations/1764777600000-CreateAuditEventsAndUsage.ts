import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log (append-only; each row written in the transaction of the change it records)
 * and per-key hourly usage (aggregated in memory, flushed with the last-used batch).
 */
export class CreateAuditEventsAndUsage1764777600000 implements MigrationInterface {
  name = 'CreateAuditEventsAndUsage1764777600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id               bigserial    PRIMARY KEY,
        occurred_at      timestamptz  NOT NULL DEFAULT now(),
        type             varchar(64)  NOT NULL,
        actor_user_id    varchar(255),
        actor_auth_type  varchar(16),
        actor_key_id     integer,
        subject_user_id  varchar(255),
        subject_key_id   integer,
        subject_key_name varchar(200),
        subject_key_hint varchar(64),
        client_address   varchar(64),
        user_agent       varchar(256),
        request_id       varchar(64),
        details          jsonb        NOT NULL DEFAULT '{}'::jsonb
      )`);
    // A user's events newest first, optionally for one key or of one type; retention by time.
    await q.query(`CREATE INDEX audit_events_subject_user_idx ON audit_events (subject_user_id, id DESC)`);
    await q.query(`CREATE INDEX audit_events_subject_key_idx ON audit_events (subject_key_id, id DESC) WHERE subject_key_id IS NOT NULL`);
    await q.query(`CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at)`);
    await q.query(`
      CREATE TABLE api_key_usage_hourly (
        key_id   integer     NOT NULL,
        hour     timestamptz NOT NULL,
        requests integer     NOT NULL DEFAULT 0,
        failures integer     NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, hour)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_key_usage_hourly`);
    await q.query(`DROP TABLE audit_events`);
  }
}
