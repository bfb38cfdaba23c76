import { Logger } from '@nestjs/common';
import { type DataSource, MigrationExecutor } from 'typeorm';

/** One lock for the whole database, whatever instance or release takes it. */
const MIGRATION_LOCK = "hashtext('api-key-service:migrations')";
/** How often a replica asks again for the lock, and how long it waits in all before giving up. */
const RETRY_MS = 500;
const GIVE_UP_AFTER_MS = 15 * 60_000;

/**
 * Runs the pending migrations (all in one transaction) while holding a session advisory lock,
 * so replicas starting together take turns: the first migrates, the others then find nothing
 * pending. Without it they ran the same migrations at once and all but one failed on
 * PostgreSQL's catalog, surviving only by TypeORM's connection retry. The lock is asked for
 * with `pg_try_advisory_lock` in a loop, not a blocking call: a blocking one would hit the
 * pool's query timeout (10 s) while another replica runs a long migration. The lock, the
 * migrations table and the migrations share one connection, so this also works with the
 * embedded database's single connection; the lock goes with the session if the process dies.
 */
export async function runMigrationsUnderLock(dataSource: DataSource, logger = new Logger('Migrations')): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    const started = Date.now();
    let told = false;
    for (;;) {
      const [{ locked }] = (await runner.query(`SELECT pg_try_advisory_lock(${MIGRATION_LOCK}) AS locked`)) as Array<{ locked: boolean }>;
      if (locked) break;
      if (Date.now() - started > GIVE_UP_AFTER_MS) throw new Error('gave up waiting for another instance to finish the migrations');
      if (!told) logger.log('another instance is running the migrations: waiting for it');
      told = true;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'all';
      await executor.executePendingMigrations();
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  } finally {
    await runner.release();
  }
}
