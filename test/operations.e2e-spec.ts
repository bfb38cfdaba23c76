import { AuditHousekeeping } from '../server/src/audit/audit.controller';
import { AuthFailureAudit } from '../server/src/auth/auth-failure-audit';
import { LastUsedTracker } from '../server/src/credentials/last-used.tracker';
import { signIn } from './support/browser-session';
import { call, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

/** The value of one series in a Prometheus text exposition (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((w) => present.includes(w)) && present.length === wanted.length) return Number(match[3]);
  }
  return 0;
}

async function scrape(app: TestApp): Promise<string> {
  const res = await fetch(`${app.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

describe('operations: metrics, audit log, per-key usage', () => {
  let app: TestApp;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    app = await startTestApp({ LAST_USED_WRITE_INTERVAL_MS: '200', TRUST_PROXY: 'loopback' });
    [alice, bob] = await Promise.all([passwordToken(app, 'alice'), passwordToken(app, 'bob')]);
  });
  afterAll(() => app.close());

  /** Ends the current usage interval now (what its timer does every LAST_USED_WRITE_INTERVAL_MS): no sleeping in tests. */
  const flushUsage = async () => {
    const tracker = app.running.app.get(LastUsedTracker);
    // Twice: a flush the timer began a moment ago may be one whose interval had not ended yet.
    await tracker.flush(true);
    await tracker.flush(true);
  };

  describe('GET /metrics', () => {
    it('counts a scripted session: create, use with each credential, fail, revoke', async () => {
      const before = await scrape(app);
      const key = await createKey(app, alice);
      const { jar } = await signIn(app, 'alice');
      for (let i = 0; i < 3; i++) expect((await call(app, '/api/keys/current', { token: key.key })).status).toBe(200);
      for (let i = 0; i < 2; i++)
        expect((await call(app, '/api/keys/current', { headers: { 'x-session-api-key': key.key } })).status).toBe(200);
      expect((await call(app, '/api/keys/current', { token: alice })).status).toBe(200);
      expect((await call(app, '/api/keys/current', { headers: { cookie: jar.header() } })).status).toBe(200);
      expectProblem(await call(app, '/api/keys', { token: 'sk-oh-' + 'A'.repeat(36) }), 401);
      expectProblem(await call(app, '/api/keys'), 401, 'missing_credential');
      expect((await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token: alice })).status).toBe(200);
      expectProblem(await call(app, '/api/keys/current', { token: key.key }), 401, 'revoked_key');
      const after = await scrape(app);

      const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
      expect(delta('api_keys_created_total')).toBe(1);
      expect(delta('api_keys_revoked_total', { reason: 'owner' })).toBe(1);
      expect(delta('api_key_authentications_total', { method: 'api_key', result: 'success' })).toBe(3);
      expect(delta('api_key_authentications_total', { method: 'mcp', result: 'success' })).toBe(2);
      // The JWT authenticated the create, the current call and the delete.
      expect(delta('api_key_authentications_total', { method: 'jwt', result: 'success' })).toBe(3);
      expect(delta('api_key_authentications_total', { method: 'cookie', result: 'success' })).toBe(1);
      const malformedOrUnknown =
        delta('api_key_authentications_total', { method: 'api_key', result: 'malformed_key' }) +
        delta('api_key_authentications_total', { method: 'api_key', result: 'unknown_key' });
      expect(malformedOrUnknown).toBe(1);
      expect(delta('api_key_authentications_total', { method: 'none', result: 'missing_credential' })).toBe(1);
      expect(delta('api_key_authentications_total', { method: 'api_key', result: 'revoked_key' })).toBe(1);
      // Durations by route template, never by raw path.
      expect(after).toMatch(/http_request_duration_seconds_count\{method="DELETE",route="\/api\/keys\/:id",status_class="2xx"\} [1-9]/);
      expect(after).not.toMatch(new RegExp(`route="/api/keys/${key.id}"`));
      expect(after).not.toContain(key.key);
      expect(sample(after, 'key_invalidation_listener_connected')).toBe(1);
      expect(after).toMatch(/^database_pool_connections\{state="idle"\} \d+$/m);
      expect(after).toMatch(/^process_resident_memory_bytes \d+/m);
      expect(sample(after, 'api_keys_active')).toBeGreaterThanOrEqual(0);
    });

    it('answers only loopback clients without METRICS_TOKEN, as if it were not there for others', async () => {
      const proxied = await startTestApp({ TRUST_PROXY: 'loopback' });
      try {
        expectProblem(await call(proxied, '/metrics', { headers: { 'x-forwarded-for': '203.0.113.9' } }), 404, 'not_found');
        expect((await call(proxied, '/metrics')).status).toBe(200);
      } finally {
        await proxied.close();
      }
    });

    it('needs METRICS_TOKEN as a Bearer token when one is set, compared exactly', async () => {
      const token = 'metrics-token-'.padEnd(40, 'x');
      const guarded = await startTestApp({ METRICS_TOKEN: token });
      try {
        expectProblem(await call(guarded, '/metrics'), 401, 'missing_credential');
        expectProblem(await call(guarded, '/metrics', { token: `${token}y` }), 401);
        const res = await call(guarded, '/metrics', { token });
        expect(res.status).toBe(200);
        expect(res.text).toContain('api_key_authentications_total');
        // The token is a secret like the others: never in a log line.
        expect(guarded.logs.text).not.toContain(token);
      } finally {
        await guarded.close();
      }
    });
  });

  describe('audit log', () => {
    const types = async (token: string, query = '') =>
      (await call(app, `/api/audit-events${query}`, { token })).body.items.map((e: { type: string }) => e.type) as string[];

    it('records each change in its transaction, with who, how and from where; a refused change records nothing', async () => {
      const key = await createKey(app, bob, { name: 'audited', scopes: ['keys:read'] });
      const events = (await call(app, `/api/audit-events?key_id=${key.id}`, { token: bob, headers: { 'user-agent': 'audit-test/1.0' } }))
        .body.items;
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'api_key.created',
        actor_user_id: expect.any(String),
        actor_auth_type: 'jwt',
        key_id: key.id,
        key_name: 'audited',
        key_hint: key.key_hint,
        client_address: '127.0.0.1',
        details: { scopes: ['keys:read'], expires_at: null },
      });
      expect(new Date(events[0].occurred_at).getTime()).toBeGreaterThan(Date.now() - 60_000);

      // Refused changes: a duplicate name, another user's key, a scope the key lacks.
      const before = await app.sql<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
      expectProblem(await call(app, '/api/keys', { method: 'POST', token: bob, body: { name: 'audited' } }), 409, 'duplicate_name');
      expectProblem(await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token: alice }), 404);
      expectProblem(await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token: key.key }), 403);
      const after = await app.sql<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
      expect(after[0].n).toBe(before[0].n);

      expect((await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token: bob })).status).toBe(200);
      expect(await types(bob, `?key_id=${key.id}`)).toEqual(['api_key.revoked', 'api_key.created']);
    });

    it('records LLM key issues, sign-in and sign-out, a reused expired name, and failures per address and minute', async () => {
      const [user, token] = ['alice', alice];
      expect((await call(app, '/api/keys/llm/byor', { token })).status).toBe(200);
      expect((await call(app, '/api/keys/llm/byor/refresh', { method: 'POST', token })).status).toBe(200);
      const { jar } = await signIn(app, user);
      const xsrf = jar.cookies.get('XSRF-TOKEN')!;
      expect(
        (await call(app, '/api/auth/logout', { method: 'POST', headers: { cookie: jar.header(), 'x-xsrf-token': xsrf } })).status,
      ).toBe(200);
      const seen = await types(token, '?limit=200');
      expect(seen).toEqual(expect.arrayContaining(['llm_key.provisioned', 'llm_key.refreshed', 'session.signed_in', 'session.signed_out']));
      expect(seen.indexOf('session.signed_out')).toBeLessThan(seen.indexOf('session.signed_in'));

      // A key past its expiry still holds its name until a new key takes it: that retires it.
      const old = await createKey(app, token, { name: 'nightly' });
      await app.sql(`UPDATE api_keys SET expires_at = now() - interval '1 day' WHERE id = $1`, [old.id]);
      await createKey(app, token, { name: 'nightly' });
      expect(await types(token, `?key_id=${old.id}`)).toEqual(['api_key.expired', 'api_key.created']);

      for (let i = 0; i < 3; i++) await call(app, '/api/keys', { token: 'sk-oh-' + 'B'.repeat(36) });
      await app.running.app.get(AuthFailureAudit).flush();
      const [failures] = await app.sql<{ details: { count: number; codes: Record<string, number> } }>(
        `SELECT details FROM audit_events WHERE type = 'auth.failures' AND client_address = '127.0.0.1' ORDER BY id DESC LIMIT 1`,
      );
      expect(failures.details.count).toBeGreaterThanOrEqual(3);
    });

    it("pages a user's log newest first and never shows another user's events, with users acting at the same time", async () => {
      const users = [
        { name: 'alice', token: alice },
        { name: 'bob', token: bob },
      ];
      // Both users create and delete keys concurrently.
      await Promise.all(
        users.flatMap(({ name, token }) =>
          Array.from({ length: 6 }, async (_, i) => {
            const key = await createKey(app, token, { name: `${name}-parallel-${i}` });
            await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token });
          }),
        ),
      );
      for (const { name, token } of users) {
        const me = (await call(app, '/api/keys/current', { token })).body.user_id;
        const seen: Array<{ id: number; key_name: string | null; actor_user_id: string }> = [];
        let cursor: string | null = null;
        do {
          const page: { items: typeof seen; next_cursor: string | null } = (
            await call(app, `/api/audit-events?limit=5${cursor ? `&after=${cursor}` : ''}`, { token })
          ).body;
          expect(page.items.length).toBeLessThanOrEqual(5);
          seen.push(...page.items);
          cursor = page.next_cursor;
        } while (cursor);
        const ids = seen.map((e) => e.id);
        expect(ids).toEqual([...ids].sort((a, b) => b - a));
        expect(new Set(ids).size).toBe(ids.length);
        const parallel = seen.filter((e) => e.key_name?.includes('-parallel-'));
        expect(parallel).toHaveLength(12);
        expect(parallel.every((e) => e.key_name!.startsWith(`${name}-`) && e.actor_user_id === me)).toBe(true);
      }
    });

    it('housekeeping records each expired key once and prunes events past the retention, however often it runs at once', async () => {
      const key = await createKey(app, bob, { name: 'lapsing' });
      await app.sql(`UPDATE api_keys SET expires_at = now() - interval '1 hour' WHERE id = $1`, [key.id]);
      await app.sql(
        `INSERT INTO audit_events (occurred_at, type, subject_user_id) VALUES (now() - interval '401 days', 'session.signed_in', 'ghost')`,
      );
      await app.sql(
        `INSERT INTO retired_llm_keys (key_hash, user_id, retired_at) VALUES (decode(repeat('01', 32), 'hex'), 'ghost', now() - interval '401 days'), (decode(repeat('02', 32), 'hex'), 'ghost', now() - interval '399 days')`,
      );
      // A leaked LLM key whose owner has not fetched since stays retired however old the report.
      await call(app, '/api/keys/llm/byor', { token: bob });
      await app.sql(
        `INSERT INTO retired_llm_keys (key_hash, user_id, retired_at) SELECT key_hash, 'ghost', now() - interval '401 days' FROM llm_keys LIMIT 1`,
      );
      const stillStored = (await app.sql(`SELECT encode(key_hash, 'hex') AS hash FROM llm_keys LIMIT 1`))[0] as { hash: string };
      const jobs = app.running.app.get(AuditHousekeeping);
      const results = await Promise.all([jobs.run(), jobs.run(), jobs.run()]);
      // Whoever held the lock did the work; the others skipped it or found nothing left.
      expect(results.reduce((n, r) => n + (r?.expired ?? 0), 0)).toBeGreaterThanOrEqual(1);
      expect(await types(bob, `?key_id=${key.id}`)).toEqual(['api_key.expired', 'api_key.created']);
      await jobs.run();
      expect(await types(bob, `?key_id=${key.id}&type=api_key.expired`)).toHaveLength(1);
      expect(await app.sql(`SELECT 1 FROM audit_events WHERE subject_user_id = 'ghost'`)).toHaveLength(0);
      expect(
        await app.sql(`SELECT encode(key_hash, 'hex') AS hash FROM retired_llm_keys WHERE user_id = 'ghost' ORDER BY retired_at DESC`),
      ).toEqual([{ hash: '02'.repeat(32) }, stillStored]);
    });

    it('records a key used from an address it was not used from before, once, and not its first use', async () => {
      const key = await createKey(app, alice, { name: 'travelling' });
      const from = (address: string) => call(app, '/api/keys/current', { token: key.key, headers: { 'x-forwarded-for': address } });
      expect((await from('192.0.2.10')).status).toBe(200);
      await flushUsage();
      expect(await types(alice, `?key_id=${key.id}`)).toEqual(['api_key.created']);

      for (let i = 0; i < 3; i++) expect((await from('198.51.100.7')).status).toBe(200);
      // The same IPv6 /64 is one network, whatever the interface id.
      expect((await from('2001:db8:1:2::a')).status).toBe(200);
      expect((await from('2001:db8:1:2::b')).status).toBe(200);
      await flushUsage();
      expect((await from('198.51.100.7')).status).toBe(200);
      await flushUsage();
      const events = (await call(app, `/api/audit-events?key_id=${key.id}&type=api_key.used_from_new_address`, { token: alice })).body
        .items;
      expect(events.map((e: { client_address: string }) => e.client_address).sort()).toEqual(['198.51.100.7', '2001:db8:1:2::a']);
      expect(events[0]).toMatchObject({ actor_auth_type: 'api_key', actor_key_id: key.id, key_name: 'travelling' });
    });

    it('refuses bad filters with a problem naming the field', async () => {
      expectProblem(await call(app, '/api/audit-events?type=nope', { token: alice }), 422, 'validation_failed');
      expectProblem(await call(app, '/api/audit-events?limit=0', { token: alice }), 422, 'validation_failed');
      expectProblem(await call(app, '/api/audit-events?after=abc', { token: alice }), 422, 'validation_failed');
      expectProblem(await call(app, '/api/audit-events?key_id=-1', { token: alice }), 422, 'validation_failed');
      // Past PostgreSQL's bigint: a problem, not a 500 from the cast.
      expectProblem(await call(app, '/api/audit-events?after=9223372036854775808', { token: alice }), 422, 'validation_failed');
    });
  });

  describe('per-key usage', () => {
    it('returns the requests and refusals the key made, hourly for 7 days and daily for 30', async () => {
      const key = await createKey(app, alice, { name: 'usage-counted' });
      for (let i = 0; i < 5; i++) expect((await call(app, '/api/keys/current', { token: key.key })).status).toBe(200);
      expect((await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token: alice })).status).toBe(200);
      for (let i = 0; i < 2; i++) expectProblem(await call(app, '/api/keys/current', { token: key.key }), 401, 'revoked_key');
      // Written with the last-used batch, as at the end of an interval (or at shutdown), then read from the table.
      await flushUsage();
      const [stored] = await app.sql<{ requests: number; failures: number }>(
        'SELECT sum(requests)::int AS requests, sum(failures)::int AS failures FROM api_key_usage_hourly WHERE key_id = $1',
        [key.id],
      );
      expect(stored).toEqual({ requests: 5, failures: 2 });

      const hourly = (await call(app, `/api/keys/${key.id}/usage`, { token: alice })).body;
      expect(hourly.granularity).toBe('hour');
      expect(hourly.buckets).toHaveLength(168);
      expect(hourly.buckets.reduce((n: number, b: { requests: number }) => n + b.requests, 0)).toBe(5);
      expect(hourly.buckets.at(-1)).toMatchObject({ requests: 5, failures: 2 });
      const daily = (await call(app, `/api/keys/${key.id}/usage?days=30`, { token: alice })).body;
      expect(daily.buckets).toHaveLength(30);
      expect(daily.buckets.at(-1)).toMatchObject({ requests: 5, failures: 2 });

      expectProblem(await call(app, `/api/keys/${key.id}/usage`, { token: bob }), 404, 'api_key_not_found');
      expectProblem(await call(app, `/api/keys/${key.id}/usage?days=9`, { token: alice }), 422, 'validation_failed');
    });
  });
});
