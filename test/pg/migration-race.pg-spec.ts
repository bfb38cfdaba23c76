import { Client } from 'pg';
import { MIGRATIONS } from '../../server/src/database/data-source-options';
import { call, passwordToken } from '../support/http';
import { PostgresServer } from '../support/postgres-server';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Replicas of a new release start together (a rolling deploy, `replicas: 3`) against one
 * database that still lacks the release's migrations. Before the migration lock, each replica
 * ran them at once: all but one failed on PostgreSQL's catalog ("duplicate key value violates
 * unique constraint pg_type_typname_nsp_index"), logged the error with its stack, and got
 * through only by TypeORM's connection retry, which a slower migration would outlast.
 */
describe('Replicas starting together on a database without the schema', () => {
  const pg = new PostgresServer();
  const apps: TestApp[] = [];

  beforeAll(async () => {
    await pg.start();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    pg.destroy();
  });

  it('all start, the migrations run once, and no replica logs an error', async () => {
    for (let round = 0; round < 2; round++) {
      const admin = new Client({ connectionString: pg.url });
      await admin.connect();
      await admin.query(`CREATE DATABASE race_${round}`);
      await admin.end();
      const url = new URL(pg.url);
      url.pathname = `/race_${round}`;
      const started = await Promise.all(Array.from({ length: 4 }, () => startTestApp({ DATABASE_URL: url.href })));
      apps.push(...started);

      const errors = started.flatMap((app) => app.logs.lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50));
      expect(errors).toEqual([]);
      const applied = (await started[0].sql('SELECT name FROM typeorm_migrations ORDER BY id')) as Array<{ name: string }>;
      expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
      for (const app of started) {
        const token = await passwordToken(app, 'alice');
        expect((await call(app, '/api/keys', { token })).status).toBe(200);
      }
    }
  });

  it('a replica waits for a migration longer than the query timeout (10 s) without an error, then starts', async () => {
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE DATABASE race_slow');
    await admin.end();
    const url = new URL(pg.url);
    url.pathname = '/race_slow';
    // Another replica "migrating": it holds the lock for 11 s.
    const other = new Client({ connectionString: url.href });
    await other.connect();
    await other.query("SELECT pg_advisory_lock(hashtext('api-key-service:migrations'))");
    const release = setTimeout(() => void other.query("SELECT pg_advisory_unlock(hashtext('api-key-service:migrations'))"), 11_000);
    try {
      const app = await startTestApp({ DATABASE_URL: url.href });
      apps.push(app);
      expect(app.logs.lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50)).toEqual([]);
      expect(app.logs.text).toContain('another instance is running the migrations');
      const token = await passwordToken(app, 'alice');
      expect((await call(app, '/api/keys', { token })).status).toBe(200);
    } finally {
      clearTimeout(release);
      await other.end();
    }
  }, 60_000);
});
