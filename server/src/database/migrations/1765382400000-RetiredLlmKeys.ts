import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `retired_llm_keys`: the keyed hash of every LLM key that was replaced (refresh, rejected by
 * the proxy, leak). `llm_keys` holds only each user's current key, so without this a leak
 * report of a key already replaced (by its owner, or by an earlier report whose answer was
 * lost) could not be told from a made-up token. Only the HMAC is kept, never the key.
 */
export class RetiredLlmKeys1765382400000 implements MigrationInterface {
  name = 'RetiredLlmKeys1765382400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE retired_llm_keys (
        key_hash   bytea        PRIMARY KEY CHECK (octet_length(key_hash) = 32),
        user_id    varchar(255) NOT NULL,
        retired_at timestamptz  NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE retired_llm_keys`);
  }
}
