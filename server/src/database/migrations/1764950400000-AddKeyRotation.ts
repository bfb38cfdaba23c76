import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rotation: a replaced key keeps working until its (shortened) expiry, marked `rotated_at` and
 * pointing at its successor; it no longer holds its name, which passes to the new key.
 */
export class AddKeyRotation1764950400000 implements MigrationInterface {
  name = 'AddKeyRotation1764950400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN rotated_at timestamptz, ADD COLUMN replaced_by integer`);
    await q.query(`DROP INDEX api_keys_user_active_name_uq`);
    await q.query(
      `CREATE UNIQUE INDEX api_keys_user_active_name_uq ON api_keys (user_id, name) WHERE revoked_at IS NULL AND rotated_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX api_keys_user_active_name_uq`);
    await q.query(`CREATE UNIQUE INDEX api_keys_user_active_name_uq ON api_keys (user_id, name) WHERE revoked_at IS NULL`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN replaced_by, DROP COLUMN rotated_at`);
  }
}
