import { DataSource } from 'typeorm';
import { LastUsedTracker } from '../server/src/credentials/last-used.tracker';
import { type ApiKeyRow, ApiKeysRepository } from '../server/src/database/repositories/api-keys.repository';
import { call, type CallResult, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

/** Follows the `Link: <…>; rel="next"` headers from `first`; every page's items, in order. */
async function allPages(app: TestApp, token: string, first: string): Promise<Array<Array<{ id: number; name: string }>>> {
  const pages: Array<Array<{ id: number; name: string }>> = [];
  let next: string | undefined = first;
  while (next) {
    const res: CallResult<Array<{ id: number; name: string }>> = await call(app, next, { token });
    expect(res.status).toBe(200);
    pages.push(res.body);
    next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return pages;
}

describe('GET /api/keys in pages (e2e)', () => {
  let app: TestApp;
  let alice: string;
  beforeAll(async () => {
    app = await startTestApp({ API_KEY_MAX_PER_USER: '1000' });
    alice = await passwordToken(app, 'alice');
    for (let i = 0; i < 25; i += 5)
      await Promise.all(Array.from({ length: 5 }, (_v, j) => createKey(app, alice, { name: `paged-${i + j}` })));
  });
  afterAll(() => app?.close());

  it('keeps the plain array without limit, and pages through the same list with it', async () => {
    const whole = (await call(app, '/api/keys', { token: alice })).body as Array<{ id: number }>;
    expect(whole.length).toBeGreaterThanOrEqual(25);
    const pages = await allPages(app, alice, '/api/keys?limit=7');
    expect(pages.slice(0, -1).every((p) => p.length === 7)).toBe(true);
    expect(pages.flat().map((k) => k.id)).toEqual(whole.map((k) => k.id));
  });

  it('neither repeats nor skips keys when keys are created and deleted between pages', async () => {
    const whole = (await call(app, '/api/keys', { token: alice })).body as Array<{ id: number }>;
    const first = await call(app, '/api/keys?limit=10', { token: alice });
    const seen = (first.body as Array<{ id: number }>).map((k) => k.id);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link')!)![1];
    await createKey(app, alice, { name: 'newer-than-the-cursor' });
    const deleted = whole[15].id;
    expect((await call(app, `/api/keys/${deleted}`, { method: 'DELETE', token: alice })).status).toBe(200);
    const rest = await allPages(app, alice, next);
    const ids = [...seen, ...rest.flat().map((k) => k.id)];
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(whole.map((k) => k.id).filter((id) => id !== deleted));
  });

  it('answers the whole list and its pages (JSON built by PostgreSQL) exactly as JSON.stringify of the rows would, keys in every state', async () => {
    const carol = await passwordToken(app, 'bob');
    const day = 86_400_000;
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    await createKey(app, carol, { name: 'plain "quoted" \\ 名前' });
    await createKey(app, carol, { name: 'far', expires_at: at(300 * day), scopes: ['keys:read'] });
    await createKey(app, carol, { name: 'expiring', expires_at: at(2 * day), rate_limit_per_minute: 60 });
    await createKey(app, carol, { name: 'later', not_before: at(day), expires_at: at(30 * day) });
    const expired = await createKey(app, carol, { name: 'expired', expires_at: at(30 * day) });
    await app.running.app.get(DataSource).query(`UPDATE api_keys SET expires_at = now() - interval '1 hour' WHERE id = $1`, [expired.id]);
    const replaced = await createKey(app, carol, { name: 'replaced' });
    const rotate = await call(app, `/api/keys/${replaced.id}/rotate`, {
      method: 'POST',
      token: carol,
      body: { grace_period_seconds: 3600 },
    });
    expect(rotate.status).toBe(201);
    // One key's use written to the database, another's only in this instance's memory (pending).
    const written = await createKey(app, carol, { name: 'used, written' });
    expect((await call(app, '/api/keys/current', { token: written.key })).status).toBe(200);
    const tracker = app.running.app.get(LastUsedTracker);
    await tracker.flush(true);
    await tracker.flush(true);
    const pending = await createKey(app, carol, { name: 'used, pending' });
    expect((await call(app, '/api/keys/current', { token: pending.key })).status).toBe(200);
    expect(tracker.pendingUse(pending.id)).toBeDefined();

    const whole = await call(app, '/api/keys', { token: carol });
    expect(whole.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const paged = (await allPages(app, carol, '/api/keys?limit=3')).flat();
    expect(whole.body).toEqual(paged);
    // Byte for byte what the service's toResponse would answer for the stored rows: the same key
    // order, fields, date and number formats, status rule, escapes, and this instance's pending use.
    const rows = await app.sql<Omit<ApiKeyRow, 'user_id' | 'revoked_at'>>(
      `SELECT id, name, key_hint, scopes, created_at, last_used_at, expires_at, not_before, rotated_at, rate_limit_per_minute FROM api_keys
        WHERE user_id = (SELECT user_id FROM api_keys WHERE id = $1) AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`,
      [replaced.id],
    );
    const now = Date.now();
    const expected = rows.map((row) => {
      const pendingUse = tracker.pendingUse(row.id);
      const lastUsed = pendingUse && (!row.last_used_at || pendingUse > row.last_used_at) ? pendingUse : row.last_used_at;
      const expires = row.expires_at?.getTime();
      return {
        id: row.id,
        name: row.name,
        key_hint: row.key_hint,
        scopes: row.scopes,
        created_at: row.created_at.toISOString(),
        last_used_at: lastUsed?.toISOString() ?? null,
        expires_at: row.expires_at?.toISOString() ?? null,
        not_before: row.not_before?.toISOString() ?? null,
        status: row.rotated_at
          ? 'rotated'
          : expires === undefined
            ? 'active'
            : expires <= now
              ? 'expired'
              : expires - now <= 7 * day
                ? 'expiring'
                : 'active',
        rate_limit_per_minute: row.rate_limit_per_minute,
      };
    });
    expect(whole.text).toBe(JSON.stringify(expected));
    expect(JSON.stringify(paged)).toBe(JSON.stringify(expected));
    const byName = Object.fromEntries(
      (whole.body as Array<{ name: string; status: string; last_used_at: string | null }>).map((k) => [k.name, k]),
    );
    expect(Object.fromEntries(['far', 'expiring', 'later', 'expired', 'replaced'].map((name) => [name, byName[name].status]))).toEqual({
      far: 'active',
      expiring: 'expiring',
      later: 'active',
      expired: 'expired',
      replaced: 'rotated',
    });
    expect(byName['used, pending'].last_used_at).not.toBeNull();
    expect(byName['used, written'].last_used_at).not.toBeNull();
    for (const status of ['active', 'expiring', 'expired', 'rotated']) {
      const filtered = await call(app, `/api/keys?status=${status}`, { token: carol });
      expect(filtered.body).toEqual((await allPages(app, carol, `/api/keys?limit=2&status=${status}`)).flat());
      expect((filtered.body as unknown[]).length).toBeGreaterThan(0);
    }
    expect((await call(app, '/api/keys', { token: await passwordToken(app, 'admin') })).body).toEqual([]);
  });

  it('refuses a limit out of range and a cursor it did not issue, and ignores other parameters', async () => {
    for (const limit of ['0', '1001', 'ten', '-1']) {
      const res = await call(app, `/api/keys?limit=${limit}`, { token: alice });
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.errors).toEqual([{ field: 'limit', message: 'must be an integer from 1 to 1000' }]);
    }
    expectProblem(await call(app, '/api/keys?limit=5&after=bm90LWEtY3Vyc29y', { token: alice }), 400, 'invalid_cursor');
    expectProblem(await call(app, '/api/keys?limit=5&after=%00%27', { token: alice }), 400, 'invalid_cursor');
    // Well-formed, but a date PostgreSQL refuses (Date.parse takes 31 February): a problem, not a 500.
    for (const forged of ['2026-02-31T00:00:00.000000Z 1', '0000-01-01T00:00:00.000000Z 1']) {
      const cursor = Buffer.from(forged).toString('base64url');
      expectProblem(await call(app, `/api/keys?limit=5&after=${cursor}`, { token: alice }), 400, 'invalid_cursor');
    }
    expect((await call(app, '/api/keys?_=1700000000', { token: alice })).status).toBe(200);
  });

  it("never shows another user's keys through a cursor", async () => {
    const bob = await passwordToken(app, 'bob');
    await createKey(app, bob, { name: 'bobs-only' });
    const page = await call(app, '/api/keys?limit=1', { token: alice });
    const cursor = /after=([^>]+)>/.exec(page.headers.get('link')!)![1];
    const bobs = await call(app, `/api/keys?limit=50&after=${cursor}`, { token: bob });
    expect(bobs.status).toBe(200);
    expect((bobs.body as Array<{ name: string }>).every((k) => k.name === 'bobs-only')).toBe(true);
  });
});

describe('GET /api/keys: the rendered whole list kept per user (e2e)', () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    app = await startTestApp({ API_KEY_MAX_PER_USER: '1000' });
    [alice, bob] = await Promise.all([passwordToken(app, 'alice'), passwordToken(app, 'bob')]);
  });
  afterAll(() => app?.close());
  afterEach(() => jest.restoreAllMocks());

  type Listed = Array<{ id: number; name: string; status: string }>;
  const names = async (token: string) => ((await call(app, '/api/keys', { token })).body as Listed).map((k) => k.name);

  it('is sent again while nothing changed, and rebuilt after any change to the keys, whoever made it', async () => {
    const first = await createKey(app, alice, { name: 'kept-1' });
    expect(await names(alice)).toContain('kept-1');
    const builds = jest.spyOn(app.running.app.get(ApiKeysRepository), 'listActiveJson');
    expect(await names(alice)).toContain('kept-1');
    expect(builds).not.toHaveBeenCalled(); // the kept list, after one version read
    await createKey(app, alice, { name: 'kept-2' });
    expect(await names(alice)).toEqual(expect.arrayContaining(['kept-1', 'kept-2']));
    expect(builds).toHaveBeenCalledTimes(1);
    expect((await call(app, `/api/keys/${first.id}`, { method: 'DELETE', token: alice })).status).toBe(200);
    expect(await names(alice)).not.toContain('kept-1');
    // A change no code path of this instance made (another instance, an operator's SQL): the
    // trigger moves the version all the same.
    await app.sql(`UPDATE api_keys SET name = 'renamed by SQL' WHERE user_id = (SELECT user_id FROM api_keys WHERE name = 'kept-2')`);
    expect(await names(alice)).toContain('renamed by SQL');
    await app.sql(`DELETE FROM api_keys WHERE name = 'renamed by SQL'`);
    expect(await names(alice)).not.toContain('renamed by SQL');
  });

  it('cuts pages from a kept list exactly as the database would select them, cursors included', async () => {
    for (let i = 0; i < 7; i++) await createKey(app, alice, { name: `cut-${i}` });
    const whole = (await call(app, '/api/keys', { token: alice })).body as Listed; // kept now
    const builds = jest.spyOn(app.running.app.get(ApiKeysRepository), 'listActiveJson');
    const fromKept: Array<{ text: string; link: string | null }> = [];
    let next: string | undefined = '/api/keys?limit=3';
    while (next) {
      const res: CallResult<Listed> = await call(app, next, { token: alice });
      fromKept.push({ text: res.text, link: res.headers.get('link') });
      next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
    }
    expect(builds).not.toHaveBeenCalled();
    expect(fromKept.map((p) => JSON.parse(p.text) as Listed).flat()).toEqual(whole);
    // The same pages from the database: a write that changes nothing still moves the version.
    await app.sql(`UPDATE api_keys SET name = name WHERE id = $1`, [whole[0].id]);
    next = '/api/keys?limit=3';
    for (const expected of fromKept) {
      const res: CallResult<Listed> = await call(app, next!, { token: alice });
      expect({ text: res.text, link: res.headers.get('link') }).toEqual(expected);
      next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
    }
    expect(builds).toHaveBeenCalledTimes(fromKept.length);
    // A cursor whose key is gone still continues after its position.
    const cursor = /after=([^>]+)>/.exec(fromKept[0].link!)![1];
    expect((await call(app, `/api/keys/${whole[2].id}`, { method: 'DELETE', token: alice })).status).toBe(200);
    expect(((await call(app, '/api/keys', { token: alice })).body as Listed).length).toBe(whole.length - 1); // kept again
    const after = (await call(app, `/api/keys?limit=3&after=${cursor}`, { token: alice })).body as Listed;
    expect(after.map((k) => k.id)).toEqual(whole.slice(3, 6).map((k) => k.id));
  });

  it("shows a key's new status when the clock alone changes it (expiring, then expired), with no write in between", async () => {
    const key = await createKey(app, bob, { name: 'clock' });
    // The warning window (7 days) begins 1.5 s from now, and the key expires 1.5 s after that.
    await app.sql(`UPDATE api_keys SET expires_at = now() + interval '7 days 1.5 seconds' WHERE id = $1`, [key.id]);
    const statusOf = async () => ((await call(app, '/api/keys', { token: bob })).body as Listed).find((k) => k.id === key.id)!.status;
    expect(await statusOf()).toBe('active');
    expect(await statusOf()).toBe('active'); // kept
    await new Promise((r) => setTimeout(r, 1700));
    expect(await statusOf()).toBe('expiring');
    await app.sql(`UPDATE api_keys SET expires_at = now() + interval '1.5 seconds' WHERE id = $1`, [key.id]);
    expect(await statusOf()).toBe('expiring');
    await new Promise((r) => setTimeout(r, 1700));
    expect(await statusOf()).toBe('expired');
  });

  it("never hands one user's kept list to another, under concurrent lists and creates", async () => {
    const carol = await passwordToken(app, 'admin');
    const users = [
      { token: alice, prefix: 'alice-c-' },
      { token: bob, prefix: 'bob-c-' },
      { token: carol, prefix: 'admin-c-' },
    ];
    for (const u of users) await createKey(app, u.token, { name: `${u.prefix}0` });
    const ownerOf = new Map<number, string>();
    for (const u of users) for (const k of (await call(app, '/api/keys', { token: u.token })).body as Listed) ownerOf.set(k.id, u.prefix);
    await Promise.all(
      users.flatMap((u) =>
        Array.from({ length: 15 }, async (_v, i) => {
          if (i % 5 === 4) {
            const created = await createKey(app, u.token, { name: `${u.prefix}${i}` });
            ownerOf.set(created.id, u.prefix);
            return;
          }
          const listed = (await call(app, '/api/keys', { token: u.token })).body as Listed;
          for (const k of listed) if (ownerOf.has(k.id)) expect([k.name, ownerOf.get(k.id)]).toEqual([k.name, u.prefix]);
          expect(listed.some((k) => k.name === `${u.prefix}0`)).toBe(true);
        }),
      ),
    );
    for (const u of users) {
      const listed = await names(u.token);
      expect(listed.filter((n) => n.startsWith(u.prefix)).sort()).toEqual([
        `${u.prefix}0`,
        `${u.prefix}14`,
        `${u.prefix}4`,
        `${u.prefix}9`,
      ]);
    }
  });
});
