import { MigrationInterface, QueryRunner } from 'typeorm';

/** Access tokens of console sessions that were signed out: refused until they expire. */
export class CreateEndedSessions1764604800000 implements MigrationInterface {
  name = 'CreateEndedSessions1764604800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ended_session_tokens (
        token_hash bytea       PRIMARY KEY CHECK (octet_length(token_hash) = 32),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX ended_session_tokens_expires_idx ON ended_session_tokens (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ended_session_tokens`);
  }
}
