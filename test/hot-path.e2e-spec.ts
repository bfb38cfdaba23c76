import { LastUsedTracker } from '../server/src/credentials/last-used.tracker';
import { ApiKeysRepository } from '../server/src/database/repositories/api-keys.repository';
import { call, createKey, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise with its resolver, to hold a step of the app at a chosen moment. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

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

  describe('a use being written still shows in the lists', () => {
    afterEach(() => jest.restoreAllMocks());

    const lastUsedIn = async (path: string, keyId: number) =>
      (await call(app, path, { token: alice })).body.find((k: { id: number }) => k.id === keyId)?.last_used_at as string | null;

    it('while the UPDATE is in flight: the use has left the pending set but is not in the database yet', async () => {
      const key = await createKey(app, alice);
      const repository = app.running.app.get(ApiKeysRepository);
      const original = repository.recordLastUse.bind(repository);
      const started = deferred();
      const release = deferred();
      jest.spyOn(repository, 'recordLastUse').mockImplementation(async (uses) => {
        started.resolve();
        await release.promise;
        return original(uses);
      });
      expect((await call(app, '/api/keys/current', { token: key.key })).status).toBe(200);
      const tracker = app.running.app.get(LastUsedTracker);
      // Twice: the timer's flush may have begun before the use.
      const flushed = tracker.flush(false).then(() => tracker.flush(false));
      await started.promise;
      try {
        expect(await lastUsedIn('/api/keys', key.id)).not.toBeNull();
        expect(await lastUsedIn('/api/keys?limit=100', key.id)).not.toBeNull();
      } finally {
        release.resolve();
        await flushed;
      }
      expect(await lastUsedIn('/api/keys', key.id)).not.toBeNull();
    });

    it('when the list read the row just before the write committed, and looks at this instance just after', async () => {
      const key = await createKey(app, alice);
      expect((await call(app, '/api/keys/current', { token: key.key })).status).toBe(200);
      const repository = app.running.app.get(ApiKeysRepository);
      const original = repository.listActiveJson.bind(repository);
      const read = deferred();
      const proceed = deferred();
      jest.spyOn(repository, 'listActiveJson').mockImplementation(async (...args) => {
        const result = await original(...args);
        read.resolve();
        await proceed.promise;
        return result;
      });
      const listing = call(app, '/api/keys', { token: alice });
      await read.promise;
      const tracker = app.running.app.get(LastUsedTracker);
      await tracker.flush(false);
      await tracker.flush(false);
      const [row] = await app.sql<{ last_used_at: Date | null }>('SELECT last_used_at FROM api_keys WHERE id = $1', [key.id]);
      expect(row.last_used_at).toBeInstanceOf(Date); // written, after the list's query read the row
      proceed.resolve();
      const listed = (await listing).body.find((k: { id: number }) => k.id === key.id);
      expect(listed.last_used_at).toBe(row.last_used_at!.toISOString());
    });
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
