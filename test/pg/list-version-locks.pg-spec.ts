import { Client } from 'pg';
import { LastUsedTracker } from '../../server/src/credentials/last-used.tracker';
import { DataSource } from 'typeorm';
import { ApiKeyListVersions1765296000000 } from '../../server/src/database/migrations/1765296000000-ApiKeyListVersions';
import { AuditEventsRepository } from '../../server/src/database/repositories/audit-events.repository';
import { call, createKey, passwordToken } from '../support/http';
import { PostgresServer } from '../support/postgres-server';
import { startTestApp, type TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The list-version trigger takes a lock on the owner's api_key_list_versions row in every
 * statement that writes api_keys. A transaction that writes two of a user's keys in two
 * statements (the admin's bulk revoke) then deadlocks with the batched last-used UPDATE, which
 * takes its row locks first and the version lock last, on keys it shares with no one.
 */
describe('api_key_list_versions trigger and concurrent writers (PostgreSQL)', () => {
  const pg = new PostgresServer();
  let app: TestApp;
  let watcher: Client;

  beforeAll(async () => {
    await pg.start();
    app = await startTestApp({
      DATABASE_URL: pg.url,
      DEV_USERS: 'alice:alice,admin:admin:api-keys-admin',
      LAST_USED_WRITE_INTERVAL_MS: '600000',
    });
    watcher = new Client({ connectionString: pg.url });
    await watcher.connect();
  });
  afterAll(async () => {
    await watcher?.end();
    await app?.close();
    pg.destroy();
  });

  it("an admin's bulk revoke of two keys and a last-used write of the second key (between its two UPDATEs) do not deadlock", async () => {
    const alice = await passwordToken(app, 'alice');
    const admin = await passwordToken(app, 'admin');
    const k1 = await createKey(app, alice, { name: 'bulk-1' });
    const k2 = await createKey(app, alice, { name: 'bulk-2' });
    const tracker = app.running.app.get(LastUsedTracker);
    const audit = app.running.app.get(AuditEventsRepository);
    const record = audit.record.bind(audit);
    let flush: Promise<void> | undefined;
    const spy = jest.spyOn(audit, 'record').mockImplementation(async (tx, event) => {
      const recorded = await record(tx, event);
      if (event.type === 'api_key.revoked' && event.subject.keyId === k1.id) {
        // While the admin's transaction is open, after k1's revocation: a use of k2 is written by this instance's batch.
        tracker.touch(k2.id);
        flush = tracker.flush(true);
        for (let i = 0; i < 200; i++) {
          const { rows } = await watcher.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%unnest%'`,
          );
          if (rows[0].n > 0) break;
          await sleep(10);
        }
      }
      return recorded;
    });
    try {
      const res = await call(app, '/api/admin/keys/revoke', {
        method: 'POST',
        token: admin,
        body: { ids: [k1.id, k2.id], reason: 'test' },
      });
      await flush;
      expect(app.logs.text).not.toMatch(/deadlock/i);
      expect(res.status).toBe(200);
      expect(res.body.revoked).toEqual([k1.id, k2.id]);
    } finally {
      spy.mockRestore();
    }
  });

  it('the migration backfills one distinct version per user on a database that already holds keys', async () => {
    const alice = await passwordToken(app, 'alice');
    await createKey(app, alice, { name: 'before-migration' });
    const runner = app.running.app.get(DataSource).createQueryRunner();
    const migration = new ApiKeyListVersions1765296000000();
    await migration.down(runner);
    await app.sql(`INSERT INTO api_keys (user_id, name, key_hash, key_hint, scopes, created_at)
                   VALUES ('u-other', 'x', decode(repeat('01', 32), 'hex'), 'h', '{}', now()), ('u-other', 'y', decode(repeat('02', 32), 'hex'), 'h', '{}', now())`);
    await migration.up(runner);
    await runner.release();
    const rows = await app.sql<{ user_id: string; version: string }>('SELECT user_id, version FROM api_key_list_versions');
    const users = await app.sql<{ user_id: string }>('SELECT DISTINCT user_id FROM api_keys');
    expect(rows.map((r) => r.user_id).sort()).toEqual(users.map((u) => u.user_id).sort());
    expect(new Set(rows.map((r) => r.version)).size).toBe(rows.length);
    const names = async () => ((await call(app, '/api/keys', { token: alice })).body as Array<{ name: string }>).map((k) => k.name);
    expect(await names()).toContain('before-migration');
    await createKey(app, alice, { name: 'after-migration' });
    expect(await names()).toContain('after-migration');
  });

  it("a kept list turns a key 'expired' when the database's clock says so, even if the app's clock is behind it", async () => {
    const alice = await passwordToken(app, 'alice');
    const realNow = Date.now.bind(Date);
    const expiresAt = new Date(realNow() + 2000).toISOString();
    const key = await createKey(app, alice, { name: `skew-${realNow()}`, expires_at: expiresAt });
    const statusIn = async (path: string) =>
      ((await call(app, path, { token: alice })).body as Array<{ id: number; status: string }>).find((k) => k.id === key.id)?.status;
    // The app's clock runs 5 s behind PostgreSQL's (NTP drift, a VM resumed): a skew the old list never depended on.
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() - 5000);
    try {
      expect(await statusIn('/api/keys')).not.toBe('expired');
      expect(await statusIn('/api/keys')).not.toBe('expired'); // kept
      await sleep(2500);
      expect(await statusIn('/api/keys?limit=100')).toBe('expired'); // built now, by PostgreSQL
      expect(await statusIn('/api/keys')).toBe('expired'); // the kept list, same moment
    } finally {
      spy.mockRestore();
    }
  });
});
