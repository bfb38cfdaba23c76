import { KeyVerifier } from '../server/src/api-keys/key-verifier.service';
import { LastUsedTracker } from '../server/src/api-keys/last-used.tracker';
import { call, createKey, passwordToken } from './support/http';
import { startTestApp, TestApp } from './support/test-app';

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
    const verifier = app.running.app.get(KeyVerifier);
    const before = verifier.lookups;
    await Promise.all(Array.from({ length: 50 }, () => call(app, '/api/keys/current', { token: key.key })));
    expect(verifier.lookups - before).toBe(1);
  });

  it('writes last_used_at once per key per interval, not per request, and shows the newest use at once', async () => {
    const key = await createKey(app, alice);
    const tracker = app.running.app.get(LastUsedTracker);
    expect((await call(app, '/api/keys', { token: alice })).body.find((k: { id: number }) => k.id === key.id).last_used_at).toBeNull();
    for (let i = 0; i < 200; i++) await call(app, '/api/keys/current', { token: key.key });
    // The list shows the use even before it is written.
    const listed = (await call(app, '/api/keys', { token: alice })).body.find((k: { id: number }) => k.id === key.id);
    expect(listed.last_used_at).not.toBeNull();
    await sleep(1500); // the first use is written within a second
    const [first] = await app.sql<{ last_used_at: Date }>('SELECT last_used_at FROM api_keys WHERE id = $1', [key.id]);
    expect(first.last_used_at).toBeInstanceOf(Date);
    const writesAfterFirst = tracker.writes;
    for (let i = 0; i < 200; i++) await call(app, '/api/keys/current', { token: key.key });
    await sleep(1500);
    expect(tracker.writes).toBe(writesAfterFirst); // within the interval: nothing more written
  });
});

describe('Graceful shutdown (e2e)', () => {
  it('flushes pending last-used times when the app closes', async () => {
    const app = await startTestApp({ LAST_USED_WRITE_INTERVAL_MS: '600000' });
    const alice = await passwordToken(app, 'alice');
    const key = await createKey(app, alice);
    await call(app, '/api/keys/current', { token: key.key });
    await sleep(1200);
    const [{ last_used_at: firstWrite }] = await app.sql<{ last_used_at: Date }>('SELECT last_used_at FROM api_keys WHERE id = $1', [key.id]);
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
