import { call, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

describe('key rotation and expiry warnings', () => {
  let app: TestApp;
  let alice: string;

  beforeAll(async () => {
    app = await startTestApp();
    alice = await passwordToken(app, 'alice');
  });
  afterAll(() => app.close());

  const rotate = (id: number, body: unknown, token = alice) => call(app, `/api/keys/${id}/rotate`, { method: 'POST', token, body });

  it('replaces a key at once: the new key works with the same name, scopes and lifetime; the old one gets 401 rotated_key', async () => {
    const old = await createKey(app, alice, {
      name: 'deploy',
      scopes: ['keys:read', 'mcp'],
      expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
    // Seen (and cached) before the rotation: the cache must not keep it alive.
    expect((await call(app, '/api/keys/current', { token: old.key })).status).toBe(200);
    const res = await rotate(old.id, {});
    expect(res.status).toBe(201);
    const fresh = res.body;
    expect(fresh).toMatchObject({ name: 'deploy', scopes: ['keys:read', 'mcp'], status: 'active', replaced: { id: old.id } });
    expect(fresh.key).toMatch(/^sk-oh-/);
    expect(fresh.key).not.toBe(old.key);
    // The same 30-day lifetime, counted from now.
    expect(Math.abs(new Date(fresh.expires_at).getTime() - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);

    expect((await call(app, '/api/keys/current', { token: fresh.key })).body).toMatchObject({ id: fresh.id, name: 'deploy' });
    const refused = await call(app, '/api/keys/current', { token: old.key });
    expectProblem(refused, 401, 'rotated_key');
    expect(refused.body.detail).toMatch(/replaced by rotation on \d{4}-\d{2}-\d{2}T/);
    expect(
      (await call(app, '/api/keys/verify', { method: 'POST', token: app.config.verification.serviceToken, body: { key: old.key } })).body,
    ).toMatchObject({ valid: false, code: 'ROTATED' });

    const events = (await call(app, `/api/audit-events?key_id=${old.id}`, { token: alice })).body.items;
    expect(events.find((e: { type: string }) => e.type === 'api_key.rotated')).toMatchObject({
      details: { new_key_id: fresh.id, grace_period_seconds: 0 },
    });
    // Presenting it after the (zero) grace period is itself recorded: a copy is still deployed.
    expect(events[0]).toMatchObject({ type: 'api_key.rotated_key_used', details: { replaced_by: fresh.id } });
    expectProblem(await rotate(old.id, {}), 409, 'already_rotated');
  });

  it('keeps the old key working during the grace period, saying so in Deprecation, Sunset and Link headers', async () => {
    const old = await createKey(app, alice, { name: 'nightly' });
    const res = await rotate(old.id, { grace_period_seconds: 3600 });
    expect(res.status).toBe(201);
    const endsAt = new Date(res.body.replaced.expires_at).getTime();
    expect(Math.abs(endsAt - (Date.now() + 3_600_000))).toBeLessThan(60_000);

    const during = await call(app, '/api/keys/current', { token: old.key });
    expect(during.status).toBe(200);
    expect(during.headers.get('deprecation')).toMatch(/^@\d+$/);
    expect(new Date(during.headers.get('sunset')!).getTime()).toBe(Math.floor(endsAt / 1000) * 1000);
    expect(during.headers.get('link')).toContain('rel="deprecation"');
    // Cached now: the headers stay on the fast path too.
    expect((await call(app, '/api/keys/current', { token: old.key })).headers.get('deprecation')).toMatch(/^@\d+$/);
    // The new key carries none of that, and the list shows both, the old one as rotated.
    const fresh = await call(app, '/api/keys/current', { token: res.body.key });
    expect(fresh.headers.get('deprecation')).toBeNull();
    expect(fresh.headers.get('sunset')).toBeNull();
    const listed = (await call(app, '/api/keys', { token: alice })).body.filter((k: { name: string }) => k.name === 'nightly');
    expect(listed.map((k: { status: string }) => k.status).sort()).toEqual(['active', 'rotated']);
  });

  it('refuses the old key with rotated_key once the grace period is over, from the cache as from the database', async () => {
    const old = await createKey(app, alice, { name: 'short-grace' });
    expect((await call(app, '/api/keys/current', { token: old.key })).status).toBe(200);
    expect((await rotate(old.id, { grace_period_seconds: 1 })).status).toBe(201);
    expect((await call(app, '/api/keys/current', { token: old.key })).headers.get('deprecation')).toMatch(/^@\d+$/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expectProblem(await call(app, '/api/keys/current', { token: old.key }), 401, 'rotated_key');
  });

  it('does not revive an expired key, keeps the per-user cap with a grace period, and lets a replaced key no longer manage keys', async () => {
    const capped = await startTestApp({ API_KEY_MAX_PER_USER: '2' });
    try {
      const token = await passwordToken(capped, 'alice');
      const lapsed = await createKey(capped, token, { name: 'lapsed' });
      await capped.sql(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [lapsed.id]);
      const rot = (id: number, body: unknown, as = token) => call(capped, `/api/keys/${id}/rotate`, { method: 'POST', token: as, body });
      expectProblem(await rot(lapsed.id, {}), 409, 'expired_key');

      const a = await createKey(capped, token, { name: 'a' });
      await createKey(capped, token, { name: 'b' });
      // Two usable keys, the cap: a grace period would make three.
      expectProblem(await rot(a.id, { grace_period_seconds: 3600 }), 409, 'key_limit_reached');
      expect((await rot(a.id, { grace_period_seconds: 0 })).status).toBe(201);
    } finally {
      await capped.close();
    }

    const old = await createKey(app, alice, { name: 'handing over' });
    const res = await rotate(old.id, { grace_period_seconds: 3600 });
    // During its grace period the old key still works, but cannot rotate its successor away or create keys.
    expect((await call(app, '/api/keys', { token: old.key })).status).toBe(200);
    expectProblem(await rotate(res.body.id, {}, old.key), 403, 'insufficient_scope');
    expectProblem(await call(app, '/api/keys', { method: 'POST', token: old.key, body: { name: 'x' } }), 403, 'insufficient_scope');
    // The new key has its own history, and paged lists keep the deprecation link beside rel="next".
    const [created] = (await call(app, `/api/audit-events?key_id=${res.body.id}`, { token: alice })).body.items;
    expect(created).toMatchObject({ type: 'api_key.created', details: { rotated_from: old.id } });
    const paged = await call(app, '/api/keys?limit=1', { token: old.key });
    expect(paged.headers.get('link')).toMatch(/rel="deprecation".*, <\/api\/keys\?limit=1&after=[^>]+>; rel="next"$/);
  });

  it('refuses a grace period beyond 7 days, another user’s key, and rotating a key with more scopes than the caller', async () => {
    const key = await createKey(app, alice, { name: 'wide' });
    expectProblem(await rotate(key.id, { grace_period_seconds: 604801 }), 422, 'validation_failed');
    expectProblem(await rotate(key.id, { grace_period_seconds: 'soon' }), 422, 'validation_failed');
    expectProblem(await rotate(key.id, {}, await passwordToken(app, 'bob')), 404, 'api_key_not_found');
    const narrow = await createKey(app, alice, { name: 'narrow', scopes: ['keys:read', 'keys:write'] });
    expectProblem(await rotate(key.id, {}, narrow.key), 403, 'insufficient_scope');
    // Without a body at all, as curl -X POST sends it.
    const bare = await call(app, `/api/keys/${key.id}/rotate`, { method: 'POST', token: alice });
    expect(bare.status).toBe(201);
  });

  it('warns with Sunset on every answer to a key that expires within EXPIRY_WARNING_DAYS', async () => {
    const soon = await createKey(app, alice, { name: 'soon', expires_at: new Date(Date.now() + 3 * 86_400_000).toISOString() });
    const later = await createKey(app, alice, { name: 'later', expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString() });
    const warned = await call(app, '/api/keys/current', { token: soon.key });
    expect(new Date(warned.headers.get('sunset')!).getTime()).toBe(Math.floor(new Date(soon.expires_at as string).getTime() / 1000) * 1000);
    expect(warned.headers.get('deprecation')).toBeNull();
    expect((await call(app, '/api/keys/current', { token: later.key })).headers.get('sunset')).toBeNull();
    const statuses = (await call(app, '/api/keys', { token: alice })).body;
    expect(statuses.find((k: { id: number }) => k.id === soon.id).status).toBe('expiring');
    expect(statuses.find((k: { id: number }) => k.id === later.id).status).toBe('active');
  });
});
