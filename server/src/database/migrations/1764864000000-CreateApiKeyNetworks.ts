import { MigrationInterface, QueryRunner } from 'typeorm';

/** Where each key was used from (address, or IPv6 /64), for `api_key.used_from_new_address`. */
export class CreateApiKeyNetworks1764864000000 implements MigrationInterface {
  name = 'CreateApiKeyNetworks1764864000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_key_networks (
        key_id    integer     NOT NULL,
        network   varchar(64) NOT NULL,
        last_seen timestamptz NOT NULL,
        PRIMARY KEY (key_id, network)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_key_networks`);
  }
}
