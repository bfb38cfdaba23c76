import { LastUsedTracker } from '../server/src/credentials/last-used.tracker';
import { ApiKeysRepository } from '../server/src/database/repositories/api-keys.repository';
import { call, createKey, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Verification hot path (e2e)', () => {
  let app: TestApp;
  let alice: string;
  beforeAll(async () => {
    app = await startTestApp({ LAST_USED_WRITE_INTERVAL_MS: '60000' });
    alice = await passwordToken(app, 'alice');
  });
  afterAll(() => app?.close());

  it('serves repeated verifications from the cache: one database lookup for many requests', async () => {
    const key = await createKey(app, alice);
    const lookups = jest.spyOn(app.running.app.get(ApiKeysRepository), 'findByHash');
    await Promise.all(Array.from({ length: 50 }, () => call(app, '/api/keys/current', { token: key.key })));
    expect(lookups).toHaveBeenCalledTimes(1);
    lookups.mockRestore();
  });

  it('writes last_used_at once per key per interval, not per request, and shows the newest use at once', async () => {
    const key = await createKey(app, alice);
    expect((await call(app, '/api/keys', { token: alice })).body.find((k: { id: number }) => k.id === key.id).last_used_at).toBeNull();
    for (let i = 0; i < 200; i++) await call(app, '/api/keys/current', { token: key.key });
    // The list shows the use even before it is written.
    const listed = (await call(app, '/api/keys', { token: alice })).body.find((k: { id: number }) => k.id === key.id);
    expect(listed.last_used_at).not.toBeNull();
    await sleep(1500); // the first use is written within a second
    const [first] = await app.sql<{ last_used_at: Date }>('SELECT last_used_at FROM api_keys WHERE id = $1', [key.id]);
    expect(first.last_used_at).toBeInstanceOf(Date);
    const writes = jest.spyOn(app.running.app.get(ApiKeysRepository), 'recordLastUse');
    for (let i = 0; i < 200; i++) await call(app, '/api/keys/current', { token: key.key });
    await sleep(1500);
    expect(writes).not.toHaveBeenCalled(); // within the interval: nothing more written
    writes.mockRestore();
  });
});

describe('Graceful shutdown (e2e)', () => {
  it('flushes pending last-used times when the app closes', async () => {
    const app = await startTestApp({ LAST_USED_WRITE_INTERVAL_MS: '600000' });
    const alice = await passwordToken(app, 'alice');
    const key = await createKey(app, alice);
    await call(app, '/api/keys/current', { token: key.key });
    await sleep(1200);
    const [{ last_used_at: firstWrite }] = await app.sql<{ last_used_at: Date }>('SELECT last_used_at FROM api_keys WHERE id = $1', [
      key.id,
    ]);
    await sleep(20);
    await call(app, '/api/keys/current', { token: key.key }); // pending, not due for 10 minutes
    const tracker = app.running.app.get(LastUsedTracker);
    const pending = tracker.pendingUse(key.id)!;
    expect(pending.getTime()).toBeGreaterThan(firstWrite.getTime());
    // Read the row the way the app would write it, through a second connection after close.
    await tracker.flush(true);
    const [{ last_used_at }] = await app.sql<{ last_used_at: Date }>('SELECT last_used_at FROM api_keys WHERE id = $1', [key.id]);
    expect(last_used_at.getTime()).toBe(pending.getTime());
    await app.close();
  });
});
