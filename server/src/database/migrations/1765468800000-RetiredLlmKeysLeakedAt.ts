import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `retired_llm_keys.leaked_at`: when a key was first reported leaked. A key is retired by a
 * leak report or by its replacement, whichever comes first; the leak is recorded once, on its
 * own, so a refresh that retired the key a moment before the report does not swallow the
 * `llm_key.leaked` event.
 */
export class RetiredLlmKeysLeakedAt1765468800000 implements MigrationInterface {
  name = 'RetiredLlmKeysLeakedAt1765468800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE retired_llm_keys ADD COLUMN leaked_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE retired_llm_keys DROP COLUMN leaked_at`);
  }
}
