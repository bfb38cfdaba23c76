import { call, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

describe('API keys (e2e)', () => {
  let app: TestApp;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    app = await startTestApp({ API_KEY_MAX_PER_USER: '5', API_KEY_MAX_LIFETIME_DAYS: '400' });
    alice = await passwordToken(app, 'alice');
    bob = await passwordToken(app, 'bob');
  });
  afterAll(() => app.close());

  it('creates a key, shows it once, lists it without the secret, newest first', async () => {
    const first = await createKey(app, alice, { name: 'first' });
    const created = await call(app, '/api/keys', {
      method: 'POST',
      token: alice,
      body: { name: '  second  ', expires_at: new Date(Date.now() + 86400e3).toISOString() },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.any(Number),
      name: 'second',
      key: expect.stringMatching(/^sk-oh-[0-9A-Za-z]{36}$/),
      last_used_at: null,
    });
    expect(created.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(created.body.expires_at).toMatch(/Z$/);
    expect(created.body.key_hint).toBe(`sk-oh-…${created.body.key.slice(-4)}`);

    const list = await call(app, '/api/keys', { token: alice });
    expect(list.status).toBe(200);
    const names = list.body.map((k: { name: string }) => k.name);
    expect(names.indexOf('second')).toBeLessThan(names.indexOf('first'));
    for (const k of list.body) {
      expect(Object.keys(k).sort()).toEqual([
        'created_at',
        'expires_at',
        'id',
        'key_hint',
        'last_used_at',
        'name',
        'not_before',
        'rate_limit_per_minute',
        'scopes',
        'status',
      ]);
    }
    expect(list.text).not.toContain(first.key);
    expect(list.text).not.toContain(created.body.key);
  });

  it("deletes a key with the seed's message; it disappears from the list and stops working", async () => {
    const key = await createKey(app, alice);
    expect((await call(app, '/api/keys/current', { token: key.key })).status).toBe(200);
    const del = await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token: alice });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ message: 'API key deleted successfully' });
    const list = await call(app, '/api/keys', { token: alice });
    expect(list.body.map((k: { id: number }) => k.id)).not.toContain(key.id);
    expectProblem(await call(app, '/api/keys/current', { token: key.key }), 401, 'revoked_key');
    expectProblem(await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token: alice }), 404, 'api_key_not_found');
    // The row stays for audit.
    const rows = await app.sql<{ revoked_at: Date | null }>('SELECT revoked_at FROM api_keys WHERE id = $1', [key.id]);
    expect(rows[0].revoked_at).toBeInstanceOf(Date);
  });

  it("keeps users apart: bob can neither see nor delete alice's keys", async () => {
    const key = await createKey(app, alice, { name: 'alice-private' });
    const bobList = await call(app, '/api/keys', { token: bob });
    expect(bobList.body.map((k: { name: string }) => k.name)).not.toContain('alice-private');
    const res = await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token: bob });
    expectProblem(res, 404, 'api_key_not_found');
    expect(res.body.detail).toBe('API key not found');
    expect((await call(app, '/api/keys/current', { token: key.key })).status).toBe(200);
    // Bob may use the same name: uniqueness is per user.
    expect((await call(app, '/api/keys', { method: 'POST', token: bob, body: { name: 'alice-private' } })).status).toBe(201);
  });

  it('refuses a second active key with the same name, but allows it again once the first is deleted', async () => {
    const key = await createKey(app, alice, { name: 'deploy' });
    const dup = await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: ' deploy ' } });
    expectProblem(dup, 409, 'duplicate_name');
    expect(dup.body.errors).toEqual([{ field: 'name', message: expect.any(String) }]);
    await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token: alice });
    expect((await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: 'deploy' } })).status).toBe(201);
  });

  it('caps active keys per user with a 409 (cap 5 here), counting only active keys', async () => {
    const carol = bob; // bob has one key from the test above
    const existing = (await call(app, '/api/keys', { token: carol })).body.length;
    for (let i = existing; i < 5; i++) await createKey(app, carol);
    const over = await call(app, '/api/keys', { method: 'POST', token: carol, body: { name: 'one-too-many' } });
    expectProblem(over, 409, 'key_limit_reached');
    const list = (await call(app, '/api/keys', { token: carol })).body;
    await call(app, `/api/keys/${list[0].id}`, { method: 'DELETE', token: carol });
    expect((await call(app, '/api/keys', { method: 'POST', token: carol, body: { name: 'one-too-many' } })).status).toBe(201);
  });

  it.each([
    ['a past expiry', { name: 'x', expires_at: '2024-12-31T23:59:59Z' }, 'expires_at'],
    ['an unparseable expiry', { name: 'x', expires_at: 'next tuesday' }, 'expires_at'],
    ['an expiry beyond the maximum lifetime', { name: 'x', expires_at: new Date(Date.now() + 500 * 86400e3).toISOString() }, 'expires_at'],
    [
      'a not_before after expires_at',
      { name: 'x', expires_at: new Date(Date.now() + 86400e3).toISOString(), not_before: new Date(Date.now() + 2 * 86400e3).toISOString() },
      'not_before',
    ],
    ['a missing name', {}, 'name'],
    ['an empty name', { name: '' }, 'name'],
    ['a blank name', { name: '   ' }, 'name'],
    ['a 256-character name', { name: 'n'.repeat(256) }, 'name'],
    ['a name with control characters', { name: 'bad\u0000name' }, 'name'],
    ['a numeric name', { name: 42 }, 'name'],
    ['an unknown field', { name: 'x', admin: true }, 'admin'],
    ['an unknown scope', { name: 'x', scopes: ['root'] }, 'scopes'],
    ['scopes not an array', { name: 'x', scopes: 'keys:read' }, 'scopes'],
  ])('rejects %s with a 422 naming the field', async (_label, body, field) => {
    const res = await call(app, '/api/keys', { method: 'POST', token: alice, body });
    expectProblem(res, 422);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('accepts a 255-character name and a zone-less expiry read as UTC', async () => {
    const when = new Date(Date.now() + 3 * 86400e3);
    const naive = when.toISOString().slice(0, 19); // 2026-12-02T18:00:00, no zone
    const res = await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: 'n'.repeat(255), expires_at: naive } });
    expect(res.status).toBe(201);
    expect(res.body.expires_at).toBe(`${naive}.000Z`);
    await call(app, `/api/keys/${res.body.id}`, { method: 'DELETE', token: alice });
  });

  it.each([
    ['a non-numeric id', 'abc'],
    ['a negative id', '-1'],
    ['zero', '0'],
    ['an id beyond 32 bits', '99999999999'],
    ['a decimal id', '1.5'],
  ])('answers %s with a 400 problem', async (_label, id) => {
    expectProblem(await call(app, `/api/keys/${id}`, { method: 'DELETE', token: alice }), 400, 'invalid_id');
  });

  it('answers bad bodies with a 4xx problem, never a 500', async () => {
    expectProblem(
      await call(app, '/api/keys', { method: 'POST', token: alice, rawBody: '{"name":', headers: { 'content-type': 'application/json' } }),
      400,
    );
    expectProblem(
      await call(app, '/api/keys', { method: 'POST', token: alice, rawBody: 'name=x', headers: { 'content-type': 'text/plain' } }),
      415,
    );
    expectProblem(
      await call(app, '/api/keys', {
        method: 'POST',
        token: alice,
        rawBody: JSON.stringify({ name: 'x'.repeat(20000) }),
        headers: { 'content-type': 'application/json' },
      }),
      413,
    );
    expectProblem(
      await call(app, '/api/keys', { method: 'POST', token: alice, rawBody: '[1,2]', headers: { 'content-type': 'application/json' } }),
      422,
    );
    expectProblem(
      await call(app, '/api/keys', { method: 'POST', token: alice, rawBody: 'null', headers: { 'content-type': 'application/json' } }),
      422,
    );
    expectProblem(
      await call(app, '/api/keys', { method: 'POST', token: alice, rawBody: '', headers: { 'content-type': 'application/json' } }),
      422,
    );
    expectProblem(
      await call(app, '/api/keys', {
        method: 'POST',
        token: alice,
        rawBody: '{"__proto__":{"name":"x"}}',
        headers: { 'content-type': 'application/json' },
      }),
      422,
    );
    expectProblem(await call(app, '/api/nope', { token: alice }), 404);
  });

  it('serves the health check publicly and checks the database', async () => {
    const res = await call(app, '/api/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'up' });
  });

  it('documents every route in OpenAPI with the three credentials', async () => {
    const res = await call(app, '/api/docs-json');
    expect(res.status).toBe(200);
    const paths = Object.keys(res.body.paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/api/keys', '/api/keys/{id}', '/api/keys/current', '/api/health', '/api/auth/login', '/api/auth/logout']),
    );
    expect(Object.keys(res.body.components.securitySchemes)).toEqual(expect.arrayContaining(['bearer', 'cookie', 'mcp']));
    expect(res.body.paths['/api/keys'].post.responses).toHaveProperty('409');
    expect((await call(app, '/api/docs')).status).toBe(200);
  });
});
