import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed-authentication counts shared by every instance, in the layout rate-limiter-flexible's
 * Postgres store uses (it is told the table exists and never creates it).
 */
export class CreateAuthFailures1764691200000 implements MigrationInterface {
  name = 'CreateAuthFailures1764691200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE auth_failures (
        key    varchar(255) PRIMARY KEY,
        points integer      NOT NULL DEFAULT 0,
        expire bigint
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE auth_failures`);
  }
}
