import { LastUsedTracker } from '../../server/src/credentials/last-used.tracker';
import { signIn } from '../support/browser-session';
import { call, createKey, passwordToken } from '../support/http';
import { PostgresServer } from '../support/postgres-server';
import { startTestApp, type TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `b` until the key is refused; returns the milliseconds it took. */
async function timeUntilRefused(b: TestApp, key: string, limitMs = 3000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if ((await call(b, '/api/keys/current', { token: key })).status === 401) return Date.now() - started;
    await sleep(5);
  }
  return Infinity;
}

describe('Revocation across instances sharing one PostgreSQL (LISTEN/NOTIFY)', () => {
  const pg = new PostgresServer();
  let a: TestApp;
  let b: TestApp;
  let token: string;

  beforeAll(async () => {
    await pg.start();
    // Long cache TTL: only the notification can make B forget a key quickly.
    const env = { DATABASE_URL: pg.url, KEY_CACHE_TTL_MS: '600000' };
    a = await startTestApp(env);
    b = await startTestApp({ ...env, API_KEY_HASH_SECRET: a.config.apiKeys.hashSecret, SESSION_SECRET: a.config.sessionSecret });
    token = await passwordToken(a, 'alice');
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    pg.destroy();
  });

  it('a key deleted on A stops working on B within a second, every time', async () => {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const key = await createKey(a, token);
      expect((await call(b, '/api/keys/current', { token: key.key })).status).toBe(200); // cached on B
      expect((await call(a, `/api/keys/${key.id}`, { method: 'DELETE', token })).status).toBe(200);
      times.push(await timeUntilRefused(b, key.key));
    }
    expect(Math.max(...times)).toBeLessThan(1000);
  });

  it('a key list kept on B shows at once what A changed: a new key, a deleted one, a last use written', async () => {
    const onB = await passwordToken(b, 'alice'); // each instance's development provider signs its own tokens
    const names = async () => ((await call(b, '/api/keys', { token: onB })).body as Array<{ name: string }>).map((k) => k.name);
    const first = await createKey(a, token, { name: 'listed-across-1' });
    expect(await names()).toContain('listed-across-1');
    expect(await names()).toContain('listed-across-1'); // now kept on B
    await createKey(a, token, { name: 'listed-across-2' });
    expect(await names()).toContain('listed-across-2');
    expect((await call(a, `/api/keys/${first.id}`, { method: 'DELETE', token })).status).toBe(200);
    expect(await names()).not.toContain('listed-across-1');
    // A use through A, written by A's batch: B's kept list shows it once it is in the database.
    const used = await createKey(a, token, { name: 'used-on-a' });
    expect((await call(b, '/api/keys', { token: onB })).status).toBe(200);
    expect((await call(a, '/api/keys/current', { token: used.key })).status).toBe(200);
    await a.running.app.get(LastUsedTracker).flush(true);
    await a.running.app.get(LastUsedTracker).flush(true);
    const listed = ((await call(b, '/api/keys', { token: onB })).body as Array<{ id: number; last_used_at: string | null }>).find(
      (k) => k.id === used.id,
    );
    expect(listed?.last_used_at).not.toBeNull();
  });

  it('falls back to a short trust window while the listener is cut off, and listens again afterwards', async () => {
    const key = await createKey(a, token);
    expect((await call(b, '/api/keys/current', { token: key.key })).status).toBe(200);
    // Cut every LISTEN connection (B's and A's) from the server side.
    await a.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`);
    await sleep(50);
    await call(a, `/api/keys/${key.id}`, { method: 'DELETE', token });
    expect(await timeUntilRefused(b, key.key)).toBeLessThan(1500);

    // Once reconnected, revocations travel by notification again.
    await sleep(1500);
    const again = await createKey(a, token);
    expect((await call(b, '/api/keys/current', { token: again.key })).status).toBe(200);
    await call(a, `/api/keys/${again.id}`, { method: 'DELETE', token });
    expect(await timeUntilRefused(b, again.key)).toBeLessThan(1000);
  });
});

describe('Sign-out across instances sharing one PostgreSQL', () => {
  const pg = new PostgresServer();
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await pg.start();
    a = await startTestApp({ DATABASE_URL: pg.url });
    // B trusts A's identity provider as its Keycloak and shares the session secret, as two
    // replicas behind one load balancer do.
    b = await startTestApp({
      DATABASE_URL: pg.url,
      KEYCLOAK_URL: a.url,
      KEYCLOAK_REALM: 'dev',
      API_KEY_HASH_SECRET: a.config.apiKeys.hashSecret,
      SESSION_SECRET: a.config.sessionSecret,
      LLM_KEY_ENCRYPTION_KEY: a.config.llmKeys.encryptionKey,
    });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    pg.destroy();
  });

  it('a session signed out on A is refused on B, which had it cached', async () => {
    const { jar } = await signIn(a, 'alice');
    const cookie = jar.header();
    expect((await call(b, '/api/keys', { headers: { cookie } })).status).toBe(200); // verified and cached on B
    const out = await call(a, '/api/auth/logout', { method: 'POST', headers: { cookie, 'x-xsrf-token': jar.cookies.get('XSRF-TOKEN')! } });
    expect(out.status).toBe(200);
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 3000) {
      status = (await call(b, '/api/keys', { headers: { cookie } })).status;
      if (status === 200) await sleep(5);
    }
    expect(status).toBe(401);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('Failed-authentication limit across instances sharing one PostgreSQL', () => {
  const pg = new PostgresServer();
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await pg.start();
    const env = { DATABASE_URL: pg.url, AUTH_FAILURE_LIMIT: '10' };
    a = await startTestApp(env);
    b = await startTestApp(env);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    pg.destroy();
  });

  it('allows the limit in all, not the limit per instance', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await call(i % 2 === 0 ? a : b, '/api/keys', { token: `made-up-${i}` })).status);
    const refused = statuses.filter((s) => s === 401).length;
    // 10 in all, plus at most one per instance that had not yet seen the count pass the limit.
    expect(refused).toBeGreaterThanOrEqual(10);
    expect(refused).toBeLessThanOrEqual(12);
    expect(statuses.slice(12).every((s) => s === 429)).toBe(true);
    const [{ points }] = await a.sql<{ points: number }>("SELECT points FROM auth_failures WHERE key = 'auth:127.0.0.1'");
    expect(points).toBeGreaterThanOrEqual(10);
  });
});
