import { call, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

describe('per-key rate limits (rate_limit_per_minute)', () => {
  let app: TestApp;
  let alice: string;

  beforeAll(async () => {
    app = await startTestApp();
    alice = await passwordToken(app, 'alice');
  });
  afterAll(() => app.close());

  it('counts down in RateLimit headers, then answers 429 with Retry-After; the MCP header shares the budget', async () => {
    const key = await createKey(app, alice, { name: 'limited', rate_limit_per_minute: 5 });
    expect(key.rate_limit_per_minute).toBe(5);
    const remaining: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await call(app, '/api/keys/current', { token: key.key });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe('"per-key";q=5;w=60');
      remaining.push(res.headers.get('ratelimit')!.match(/r=(\d+)/)![1]);
    }
    expect(remaining).toEqual(['4', '3', '2', '1']);
    const viaMcp = await call(app, '/api/keys/current', { headers: { 'x-session-api-key': key.key } });
    expect(viaMcp.status).toBe(200);
    expect(viaMcp.headers.get('ratelimit')).toMatch(/^"per-key";r=0;t=\d+$/);

    const refused = await call(app, '/api/keys/current', { token: key.key });
    expectProblem(refused, 429, 'rate_limited');
    expect(refused.body.detail).toMatch(/5 requests a minute/);
    const retry = Number(refused.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit')).toBe(`"per-key";r=0;t=${retry}`);
    expect(refused.text).not.toContain(key.key);

    // Another key of the same user is not affected, and an unlimited key carries no RateLimit headers.
    const other = await call(app, '/api/keys/current', { token: (await createKey(app, alice, { name: 'unlimited' })).key });
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit')).toBeNull();
  });

  it('admits exactly the limit under concurrent requests', async () => {
    const key = await createKey(app, alice, { name: 'burst', rate_limit_per_minute: 10 });
    const statuses = await Promise.all(Array.from({ length: 25 }, () => call(app, '/api/keys/current', { token: key.key })));
    expect(statuses.filter((r) => r.status === 200)).toHaveLength(10);
    expect(statuses.filter((r) => r.status === 429)).toHaveLength(15);
  });

  it('keeps keys apart: two users hammering their own limited keys at once', async () => {
    const bob = await passwordToken(app, 'bob');
    const a = await createKey(app, alice, { name: 'alice-parallel', rate_limit_per_minute: 7 });
    const b = await createKey(app, bob, { name: 'bob-parallel', rate_limit_per_minute: 3 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(app, '/api/keys/current', { token: i % 2 ? b.key : a.key })),
    );
    const ok = (i: number) => results.filter((r, j) => j % 2 === i && r.status === 200);
    expect(ok(0)).toHaveLength(7);
    expect(ok(1)).toHaveLength(3);
    expect(ok(0).every((r) => r.body.id === a.id)).toBe(true);
    expect(ok(1).every((r) => r.body.id === b.id)).toBe(true);
  });

  it('never lets a limited key mint a key that escapes its limit; rotation keeps or changes the limit', async () => {
    const parent = await createKey(app, alice, { name: 'parent', rate_limit_per_minute: 100, scopes: ['keys:read', 'keys:write'] });
    const child = await call(app, '/api/keys', { method: 'POST', token: parent.key, body: { name: 'child' } });
    expect(child.status).toBe(201);
    expect(child.body.rate_limit_per_minute).toBe(100);
    const greedy = await call(app, '/api/keys', {
      method: 'POST',
      token: parent.key,
      body: { name: 'greedy', rate_limit_per_minute: 1000 },
    });
    expectProblem(greedy, 422, 'validation_failed');
    expect(greedy.body.errors[0].field).toBe('rate_limit_per_minute');
    const unlimited = await call(app, '/api/keys', {
      method: 'POST',
      token: parent.key,
      body: { name: 'unlimited?', rate_limit_per_minute: null },
    });
    expect(unlimited.body.rate_limit_per_minute).toBe(100);

    const kept = await call(app, `/api/keys/${child.body.id}/rotate`, { method: 'POST', token: alice, body: {} });
    expect(kept.body.rate_limit_per_minute).toBe(100);
    const changed = await call(app, `/api/keys/${kept.body.id}/rotate`, {
      method: 'POST',
      token: alice,
      body: { rate_limit_per_minute: 20 },
    });
    expect(changed.body.rate_limit_per_minute).toBe(20);
    const lifted = await call(app, `/api/keys/${changed.body.id}/rotate`, {
      method: 'POST',
      token: alice,
      body: { rate_limit_per_minute: null },
    });
    expect(lifted.body.rate_limit_per_minute).toBeNull();
    const listed = (await call(app, '/api/keys', { token: alice })).body.find((k: { id: number }) => k.id === lifted.body.id);
    expect(listed.rate_limit_per_minute).toBeNull();
  });

  it("counts a gateway's verifications against the key's limit, in one budget with its own requests", async () => {
    const key = await createKey(app, alice, { name: 'gateway-limited', rate_limit_per_minute: 3 });
    const verify = () =>
      call(app, '/api/keys/verify', { method: 'POST', token: app.config.verification.serviceToken, body: { key: key.key } });
    const first = (await verify()).body;
    expect(first).toMatchObject({ valid: true, code: 'VALID', ratelimit: { limit: 3, remaining: 2 } });
    expect(first.ratelimit.reset).toBeGreaterThanOrEqual(1);
    expect((await call(app, '/api/keys/current', { token: key.key })).status).toBe(200);
    expect((await verify()).body).toMatchObject({ valid: true, ratelimit: { remaining: 0 } });
    expect((await verify()).body).toMatchObject({ valid: false, code: 'RATE_LIMITED', key_id: key.id, ratelimit: { remaining: 0 } });
    expectProblem(await call(app, '/api/keys/current', { token: key.key }), 429, 'rate_limited');
    // An unlimited key's verification carries no budget.
    const free = await createKey(app, alice, { name: 'gateway-free' });
    const res = await call(app, '/api/keys/verify', {
      method: 'POST',
      token: app.config.verification.serviceToken,
      body: { key: free.key },
    });
    expect(res.body.valid).toBe(true);
    expect(res.body).not.toHaveProperty('ratelimit');
  });

  it('refuses limits that are not positive integers', async () => {
    for (const value of [0, -1, 1.5, '10', 1_000_001]) {
      const res = await call(app, '/api/keys', {
        method: 'POST',
        token: alice,
        body: { name: `bad-${String(value)}`, rate_limit_per_minute: value },
      });
      expectProblem(res, 422, 'validation_failed');
      expect(new Set(res.body.errors.map((e: { field: string }) => e.field))).toEqual(new Set(['rate_limit_per_minute']));
    }
  });
});
