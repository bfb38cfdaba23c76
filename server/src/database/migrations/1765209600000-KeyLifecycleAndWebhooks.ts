import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks, delivered from a transactional outbox.
 *
 * - `webhook_endpoints`: a user's receivers, with the signing secret sealed (it must be read
 *   back to sign, so it cannot be hashed like an API key).
 * - `webhook_deliveries`: the outbox. A trigger on `audit_events` writes one row per subscribed
 *   endpoint in the same transaction as the event, so a change and its webhook commit together
 *   or not at all, whichever code path recorded the event. Workers claim due rows with
 *   `FOR UPDATE SKIP LOCKED` and a lease; `message_id` (the `webhook-id`) stays the same on retries.
 * - `api_key_expiry_notices`: one row per key and threshold (warning, final, expired), so the
 *   expiry job announces each exactly once, whatever the number of instances or the audit retention.
 * - `api_keys.rate_limit_per_minute` and `api_key_rate_windows` (unlogged: counts of the current
 *   minute are worth nothing after a crash), for per-key rate limits across instances.
 */
export class KeyLifecycleAndWebhooks1765209600000 implements MigrationInterface {
  name = 'KeyLifecycleAndWebhooks1765209600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id serial PRIMARY KEY,
        user_id varchar(255) NOT NULL,
        url varchar(2048) NOT NULL,
        description varchar(200) NOT NULL DEFAULT '',
        events text[] NOT NULL,
        secret_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        consecutive_failures integer NOT NULL DEFAULT 0,
        disabled_at timestamptz,
        disabled_reason varchar(300)
      )`);
    await q.query(`CREATE INDEX webhook_endpoints_user_idx ON webhook_endpoints (user_id)`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id bigserial PRIMARY KEY,
        message_id varchar(64) NOT NULL,
        endpoint_id integer NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        event_type varchar(64) NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        status varchar(16) NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_attempt_at timestamptz,
        last_status_code integer,
        last_error varchar(300)
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC)`);
    await q.query(`
      CREATE FUNCTION enqueue_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.subject_user_id IS NULL THEN
          RETURN NULL;
        END IF;
        INSERT INTO webhook_deliveries (message_id, endpoint_id, event_type, payload)
        SELECT 'msg_evt' || NEW.id, w.id, NEW.type,
               jsonb_build_object(
                 'type', NEW.type,
                 'timestamp', to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                 'data', jsonb_build_object(
                   'event_id', NEW.id::text,
                   'user_id', NEW.subject_user_id,
                   'key', CASE WHEN NEW.subject_key_id IS NULL THEN NULL ELSE
                     jsonb_build_object('id', NEW.subject_key_id, 'name', NEW.subject_key_name, 'hint', NEW.subject_key_hint) END,
                   'actor', jsonb_build_object('user_id', NEW.actor_user_id, 'auth_type', NEW.actor_auth_type),
                   'details', NEW.details))
          FROM webhook_endpoints w
         WHERE w.user_id = NEW.subject_user_id AND w.disabled_at IS NULL AND NEW.type = ANY (w.events);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_events_enqueue_webhooks AFTER INSERT ON audit_events
        FOR EACH ROW EXECUTE FUNCTION enqueue_webhook_deliveries()`);
    await q.query(`
      CREATE TABLE api_key_expiry_notices (
        key_id integer NOT NULL,
        threshold varchar(8) NOT NULL,
        noticed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (key_id, threshold)
      )`);
    // Keys already announced as expired by the earlier sweep are not announced again.
    await q.query(`
      INSERT INTO api_key_expiry_notices (key_id, threshold)
      SELECT DISTINCT subject_key_id, 'expired' FROM audit_events WHERE type = 'api_key.expired' AND subject_key_id IS NOT NULL
      ON CONFLICT DO NOTHING`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN rate_limit_per_minute integer`);
    // Per-key request counts per minute, shared by instances (KeyRateLimiter syncs into it).
    await q.query(`
      CREATE UNLOGGED TABLE api_key_rate_windows (
        key_id integer NOT NULL,
        window_start bigint NOT NULL,
        count integer NOT NULL,
        PRIMARY KEY (key_id, window_start)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_key_rate_windows`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN rate_limit_per_minute`);
    await q.query(`DROP TABLE api_key_expiry_notices`);
    await q.query(`DROP TRIGGER audit_events_enqueue_webhooks ON audit_events`);
    await q.query(`DROP FUNCTION enqueue_webhook_deliveries()`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhook_endpoints`);
  }
}
