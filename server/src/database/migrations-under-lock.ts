import { type DataSource, MigrationExecutor } from 'typeorm';

/** One lock for the whole database, whatever instance or release takes it. */
const MIGRATION_LOCK = "hashtext('api-key-service:migrations')";

/**
 * Runs the pending migrations (all in one transaction) while holding a session advisory lock,
 * so replicas starting together take turns: the first migrates, the others then find nothing
 * pending. Without it they ran the same migrations at once and all but one failed on
 * PostgreSQL's catalog, surviving only by TypeORM's connection retry. The lock, the migrations
 * table and the migrations share one connection, so this also works with the embedded
 * database's single connection; the lock goes with the session if the process dies.
 */
export async function runMigrationsUnderLock(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
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
