import { call, createKey, passwordToken } from '../support/http';
import { PostgresServer } from '../support/postgres-server';
import { startTestApp, type TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds; the milliseconds it took, or Infinity. */
async function timeUntil(check: () => Promise<boolean>, limitMs = 3000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (await check()) return Date.now() - started;
    await sleep(5);
  }
  return Infinity;
}

describe('Key policy and admin revocation across instances sharing one PostgreSQL', () => {
  const pg = new PostgresServer();
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  let alice: string;
  let base: Record<string, unknown>;

  beforeAll(async () => {
    await pg.start();
    // Long cache TTL: only a notification can make B change its mind quickly.
    a = await startTestApp({ DATABASE_URL: pg.url, KEY_CACHE_TTL_MS: '600000' });
    // B trusts A's identity provider, as two replicas behind one load balancer trust one Keycloak.
    b = await startTestApp({
      DATABASE_URL: pg.url,
      KEY_CACHE_TTL_MS: '600000',
      KEYCLOAK_URL: a.url,
      KEYCLOAK_REALM: 'dev',
      API_KEY_HASH_SECRET: a.config.apiKeys.hashSecret,
      SESSION_SECRET: a.config.sessionSecret,
      LLM_KEY_ENCRYPTION_KEY: a.config.llmKeys.encryptionKey,
    });
    [admin, alice] = await Promise.all([passwordToken(a, 'admin'), passwordToken(a, 'alice')]);
    const { updated_at: _u, updated_by: _b, source: _s, ...body } = (await call(a, '/api/admin/policy', { token: admin })).body;
    base = body;
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    pg.destroy();
  });

  const put = (app: TestApp, body: Record<string, unknown>) => call(app, '/api/admin/policy', { method: 'PUT', token: admin, body });
  const warningDaysOn = async (app: TestApp) => (await call(app, '/api/policy', { token: alice })).body.expiry_warning_days as number;

  it('a policy stored on A applies on B at once: its copy (NOTIFY) and its creates', async () => {
    expect(await warningDaysOn(b)).toBe(7);
    const times: number[] = [];
    for (const days of [11, 12, 13]) {
      expect((await put(a, { ...base, expiry_warning_days: days })).status).toBe(200);
      times.push(await timeUntil(async () => (await warningDaysOn(b)) === days));
    }
    expect(Math.max(...times)).toBeLessThan(1000);

    // Creates read the stored policy: right after the change, on the other instance.
    expect((await put(a, { ...base, default_scopes: ['keys:read'], expiry_required: true, max_lifetime_days: 10 })).status).toBe(200);
    const key = await createKey(b, alice);
    expect(key.scopes).toEqual(['keys:read']);
    expect(Date.parse(key.expires_at as string)).toBeLessThanOrEqual(Date.now() + 10 * 86_400_000);
    // A key created on B within the warning window shows as expiring there.
    expect((await put(b, { ...base, expiry_warning_days: 30 })).status).toBe(200);
    expect(await timeUntil(async () => (await warningDaysOn(a)) === 30)).toBeLessThan(1000);
    const listed = await call(a, '/api/keys', { token: alice });
    expect(listed.body.find((k: { id: number }) => k.id === key.id).status).toBe('expiring');
  });

  it('re-reads the policy while the listener is cut off (1 s) and after it reconnects', async () => {
    await a.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`);
    await sleep(50);
    expect((await put(a, { ...base, expiry_warning_days: 21 })).status).toBe(200);
    expect(await timeUntil(async () => (await warningDaysOn(b)) === 21)).toBeLessThan(2500);
    await sleep(1500);
    expect((await put(a, { ...base, expiry_warning_days: 22 })).status).toBe(200);
    expect(await timeUntil(async () => (await warningDaysOn(b)) === 22)).toBeLessThan(1000);
  });

  it('an admin revocation on A stops the key on B, which had it cached', async () => {
    await put(a, base);
    const key = await createKey(a, alice);
    expect((await call(b, '/api/keys/current', { token: key.key })).status).toBe(200); // cached on B
    const res = await call(a, `/api/admin/keys/${key.id}`, { method: 'DELETE', token: admin, body: { reason: 'cross-instance' } });
    expect(res.status).toBe(200);
    expect(await timeUntil(async () => (await call(b, '/api/keys/current', { token: key.key })).status === 401)).toBeLessThan(1000);
  });
});
