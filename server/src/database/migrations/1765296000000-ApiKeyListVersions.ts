import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `api_key_list_versions`: a version per user, replaced by the database itself whenever any of
 * the user's rows in `api_keys` is inserted, updated or deleted, in the same transaction. Versions
 * come from one sequence, so no two users' lists ever carry the same version. An instance
 * may keep a user's rendered list as long as the version it read with it is still the user's (and no
 * key's status has changed with the clock), whichever instance or code path wrote the change.
 * Statement-level triggers with transition tables: one bump per user per statement (a batched
 * last-used write touches many users once each), users in a fixed order so that two statements
 * bumping the same users cannot deadlock.
 *
 * The version row stays locked until the writing transaction ends. So a transaction must not
 * update two existing keys of one user in separate statements: between them it holds the
 * version, and a last-used batch holding the second key waits for it (a deadlock;
 * test/pg/list-version-locks.pg-spec.ts). Update such keys in one statement.
 */
export class ApiKeyListVersions1765296000000 implements MigrationInterface {
  name = 'ApiKeyListVersions1765296000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE SEQUENCE api_key_list_version_seq');
    await q.query(`
      CREATE TABLE api_key_list_versions (
        user_id varchar(255) PRIMARY KEY,
        version bigint NOT NULL
      )`);
    await q.query(
      `INSERT INTO api_key_list_versions (user_id, version) SELECT user_id, nextval('api_key_list_version_seq') FROM (SELECT DISTINCT user_id FROM api_keys) u`,
    );
    await q.query(`
      CREATE FUNCTION bump_api_key_list_versions() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO api_key_list_versions AS v (user_id, version)
          SELECT user_id, nextval('api_key_list_version_seq') FROM (SELECT DISTINCT user_id FROM changed ORDER BY user_id) u
          ON CONFLICT (user_id) DO UPDATE SET version = excluded.version;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER api_keys_list_version_insert AFTER INSERT ON api_keys
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_api_key_list_versions()`);
    await q.query(`
      CREATE TRIGGER api_keys_list_version_update AFTER UPDATE ON api_keys
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_api_key_list_versions()`);
    await q.query(`
      CREATE TRIGGER api_keys_list_version_delete AFTER DELETE ON api_keys
        REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_api_key_list_versions()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER api_keys_list_version_delete ON api_keys');
    await q.query('DROP TRIGGER api_keys_list_version_update ON api_keys');
    await q.query('DROP TRIGGER api_keys_list_version_insert ON api_keys');
    await q.query('DROP FUNCTION bump_api_key_list_versions()');
    await q.query('DROP TABLE api_key_list_versions');
    await q.query('DROP SEQUENCE api_key_list_version_seq');
  }
}
