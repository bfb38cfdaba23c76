import { LastUsedTracker } from '../server/src/credentials/last-used.tracker';
import { signIn } from './support/browser-session';
import { call, type CallResult, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

/** Issue 15 (administration) and the organisation policy of issue 14, over the real app. */

const USERS = 'alice:alice,bob:bob,admin:admin:api-keys-admin,carol:carol:api-keys-auditor+other-role';
const NON_ADMIN_SCOPES = ['keys:read', 'keys:write', 'llm:read', 'llm:write', 'mcp'];
/** What a session holds without a role: the default scopes and the opt-in webhook scopes. */
const SESSION_SCOPES = [...NON_ADMIN_SCOPES, 'webhooks:read', 'webhooks:write'];

/** One CSV line's cells (RFC 4180: quoted cells, "" inside quotes). */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  return [...cells, cell];
}

interface Route {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  write: boolean;
  body?: () => unknown;
}

describe('Administration (e2e)', () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  let admin: string;
  let carol: string;

  beforeAll(async () => {
    // Many refusals are the point here (401s, revoked keys): no failure limit gets in the way.
    app = await startTestApp({ DEV_USERS: USERS, AUTH_FAILURE_LIMIT: '1000000', AUTH_MAX_CONCURRENT_VERIFICATIONS: '1000' });
    [alice, bob, admin, carol] = await Promise.all(['alice', 'bob', 'admin', 'carol'].map((u) => passwordToken(app, u)));
  });
  afterAll(async () => app?.close());

  const policyOf = async () => (await call(app, '/api/admin/policy', { token: admin })).body;

  /** A sample of each admin route, with a body that passes validation. Writes target nothing harmful. */
  const routes = (): Route[] => [
    { method: 'GET', path: '/api/admin/keys', write: false },
    { method: 'GET', path: '/api/admin/audit-events', write: false },
    { method: 'GET', path: '/api/admin/audit-events.csv', write: false },
    { method: 'GET', path: '/api/admin/policy', write: false },
    { method: 'GET', path: '/api/admin/overview', write: false },
    { method: 'GET', path: '/api/admin/keys/2147483000/usage', write: false },
    { method: 'DELETE', path: '/api/admin/keys/2147483000', write: true, body: () => ({ reason: 'role check' }) },
    { method: 'POST', path: '/api/admin/keys/revoke', write: true, body: () => ({ ids: [2147483000], reason: 'role check' }) },
    { method: 'PUT', path: '/api/admin/policy', write: true, body: () => currentPolicy },
  ];
  let currentPolicy: Record<string, unknown>;
  const send = (route: Route, token?: string, headers?: Record<string, string>) =>
    call(app, route.path, { method: route.method, token, headers, body: route.body?.() });
  const okStatus = (route: Route) => (route.path.includes('2147483000') ? 404 : 200);

  describe('roles and scopes on every admin route', () => {
    beforeAll(async () => {
      const { updated_at: _u, updated_by: _b, source: _s, ...body } = await policyOf();
      currentPolicy = body;
    });

    it("reads any user's key usage, while the personal route still serves only the owner", async () => {
      const key = await createKey(app, bob, { name: 'usage-for-admins' });
      expect((await call(app, '/api/keys/current', { token: key.key })).status).toBe(200);
      const res = await call(app, `/api/admin/keys/${key.id}/usage?days=30`, { token: admin });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ key_id: key.id, granularity: 'day' });
      expect(res.body.buckets).toHaveLength(30);
      expectProblem(await call(app, `/api/keys/${key.id}/usage`, { token: admin }), 404, 'api_key_not_found');
      expectProblem(await call(app, `/api/admin/keys/${key.id}/usage`, { token: alice }), 403);
      expectProblem(await call(app, `/api/admin/keys/${key.id}/usage?days=9`, { token: admin }), 422, 'validation_failed');
    });

    it('401 without credentials', async () => {
      for (const route of routes()) expectProblem(await send(route), 401, 'missing_credential');
    });

    it('403 admin_role_required for a plain user (token and console session), and for their keys', async () => {
      const key = await createKey(app, alice);
      for (const route of routes()) {
        expectProblem(await send(route, alice), 403, 'admin_role_required');
        expectProblem(await send(route, key.key), 403, 'admin_role_required');
      }
      const { jar } = await signIn(app, 'bob');
      for (const route of routes().filter((r) => !r.write)) {
        expectProblem(await send(route, undefined, { cookie: jar.header() }), 403, 'admin_role_required');
      }
    });

    it('an auditor reads everything and changes nothing', async () => {
      for (const route of routes()) {
        const res = await send(route, carol);
        if (route.write) expectProblem(res, 403, 'admin_role_required');
        else expect([route.path, res.status]).toEqual([route.path, okStatus(route)]);
      }
      const me = await call(app, '/api/keys/current', { token: carol });
      expect(me.body.scopes).toEqual([...SESSION_SCOPES, 'admin:read']);
    });

    it('an admin passes every route, with a token and with the console session (writes need the XSRF token)', async () => {
      for (const route of routes()) expect([route.path, (await send(route, admin)).status]).toEqual([route.path, okStatus(route)]);
      const { jar } = await signIn(app, 'admin');
      const cookie = jar.header();
      const xsrf = jar.cookies.get('XSRF-TOKEN')!;
      for (const route of routes()) {
        const res = await send(route, undefined, { cookie, ...(route.write ? { 'x-xsrf-token': xsrf } : {}) });
        expect([route.path, res.status]).toEqual([route.path, okStatus(route)]);
      }
      const refused = await send(
        routes().find((r) => r.method === 'PUT')!,
        undefined,
        { cookie },
      );
      expectProblem(refused, 403, 'csrf_token_invalid');
      const me = await call(app, '/api/keys/current', { token: admin });
      expect(me.body.scopes).toEqual([...SESSION_SCOPES, 'admin:read', 'admin:write']);
    });

    it('a key gets admin scopes only when an admin asks for them: never by default', async () => {
      const plain = await createKey(app, admin);
      expect(plain.scopes).toEqual(NON_ADMIN_SCOPES);
      for (const route of routes()) expectProblem(await send(route, plain.key), 403, 'admin_role_required');

      const automation = await createKey(app, admin, { scopes: ['admin:read', 'admin:write'] });
      expect(automation.scopes).toEqual(['admin:read', 'admin:write']);
      for (const route of routes()) expect([route.path, (await send(route, automation.key)).status]).toEqual([route.path, okStatus(route)]);

      // A key holding admin:read only reads; writes lack the scope.
      const reader = await createKey(app, admin, { scopes: ['admin:read'] });
      for (const route of routes()) {
        const res = await send(route, reader.key);
        if (route.write) expectProblem(res, 403, 'insufficient_scope');
        else expect([route.path, res.status]).toEqual([route.path, okStatus(route)]);
      }
    });

    it('no escalation: a plain user, an auditor or a narrower key cannot mint admin scopes', async () => {
      expectProblem(
        await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: 'x', scopes: ['admin:read'] } }),
        403,
        'insufficient_scope',
      );
      const aliceKey = await createKey(app, alice);
      expectProblem(
        await call(app, '/api/keys', { method: 'POST', token: aliceKey.key, body: { name: 'y', scopes: ['admin:write'] } }),
        403,
        'insufficient_scope',
      );
      expectProblem(
        await call(app, '/api/keys', { method: 'POST', token: carol, body: { name: 'z', scopes: ['admin:write'] } }),
        403,
        'insufficient_scope',
      );
      const auditorKey = await createKey(app, carol, { scopes: ['admin:read', 'keys:write'] });
      expect(auditorKey.scopes).toEqual(['admin:read', 'keys:write']);
      const adminKey = await createKey(app, admin, { scopes: ['admin:read', 'keys:write'] });
      expectProblem(
        await call(app, '/api/keys', { method: 'POST', token: adminKey.key, body: { name: 'w', scopes: ['admin:write'] } }),
        403,
        'insufficient_scope',
      );
    });

    it('never a 500 on bad input: validation problems and a bad cursor', async () => {
      const bad: Array<[string, number, string, string?]> = [
        ['/api/admin/keys?limit=0', 422, 'validation_failed'],
        ['/api/admin/keys?limit=abc', 422, 'validation_failed'],
        ['/api/admin/keys?status=gone', 422, 'validation_failed'],
        ['/api/admin/keys?sort=name', 422, 'validation_failed'],
        ['/api/admin/keys?status=active&status=expired', 422, 'validation_failed'],
        ['/api/admin/keys?after=not-a-cursor', 400, 'invalid_cursor'],
        [
          `/api/admin/keys?after=${Buffer.from('{"s":"created_at","v":"2026-02-31T00:00:00.000000Z","i":1}').toString('base64url')}`,
          400,
          'invalid_cursor',
        ],
        ['/api/admin/keys?unknown=1', 422, 'validation_failed'],
        ['/api/admin/audit-events?from=yesterday', 422, 'validation_failed'],
        ['/api/admin/audit-events?after=0', 422, 'validation_failed'],
        ['/api/admin/audit-events?key_id=-1', 422, 'validation_failed'],
        ['/api/admin/audit-events?type=nope', 422, 'validation_failed'],
        ['/api/admin/audit-events?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 422, 'validation_failed'],
        ['/api/admin/audit-events.csv?limit=5', 422, 'validation_failed'],
      ];
      for (const [path, status, code] of bad) {
        const res = await call(app, path, { token: admin });
        expect([path, res.status, res.body?.code]).toEqual([path, status, code]);
      }
      const writes: Array<[string, string, unknown, number]> = [
        ['DELETE', '/api/admin/keys/1', {}, 422],
        ['DELETE', '/api/admin/keys/1', { reason: '' }, 422],
        ['DELETE', '/api/admin/keys/1', { reason: 'x'.repeat(501) }, 422],
        ['DELETE', '/api/admin/keys/abc', { reason: 'x' }, 400],
        ['POST', '/api/admin/keys/revoke', { ids: [], reason: 'x' }, 422],
        ['POST', '/api/admin/keys/revoke', { ids: Array.from({ length: 101 }, (_, i) => i + 1), reason: 'x' }, 422],
        ['POST', '/api/admin/keys/revoke', { ids: [1, 1], reason: 'x' }, 422],
        ['POST', '/api/admin/keys/revoke', { ids: ['1'], reason: 'x' }, 422],
        ['PUT', '/api/admin/policy', { max_lifetime_days: 30 }, 422],
        ['PUT', '/api/admin/policy', { ...currentPolicy, default_scopes: ['admin:read'] }, 422],
        ['PUT', '/api/admin/policy', { ...currentPolicy, allowed_scopes: ['keys:read'], default_scopes: ['keys:write'] }, 422],
        ['PUT', '/api/admin/policy', { ...currentPolicy, max_keys_per_user: 0 }, 422],
        ['PUT', '/api/admin/policy', { ...currentPolicy, extra: true }, 422],
      ];
      for (const [method, path, body, status] of writes) {
        const res = await call(app, path, { method, token: admin, body });
        expect([method, path, JSON.stringify(body).slice(0, 60), res.status]).toEqual([
          method,
          path,
          JSON.stringify(body).slice(0, 60),
          status,
        ]);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
    });
  });

  describe("every user's keys", () => {
    it('lists keys of every user with owners, filters, sorts and pages with a total', async () => {
      const tag = `list-${Date.now()}`;
      // One after the other: the expected order is the order of creation (concurrent creates of one
      // user take the per-user lock in any order; CI on PostgreSQL once saw them swapped).
      const mine = [
        await createKey(app, alice, { name: `${tag} alice one` }),
        await createKey(app, alice, { name: `${tag} alice two`, expires_at: new Date(Date.now() + 2 * 86_400_000).toISOString() }),
        await createKey(app, bob, { name: `${tag} bob 100%` }),
      ];
      // The bob key is used, so it sorts first by last use.
      expect((await call(app, '/api/keys/current', { token: mine[2].key })).status).toBe(200);

      const all = await call(app, `/api/admin/keys?q=${encodeURIComponent(tag)}`, { token: admin });
      expect(all.status).toBe(200);
      expect(all.body.total).toBe(3);
      expect(all.body.items.map((k: { name: string }) => k.name)).toEqual([`${tag} bob 100%`, `${tag} alice two`, `${tag} alice one`]);
      expect(all.body.items[0]).toEqual({
        id: mine[2].id,
        user_id: expect.any(String),
        username: 'bob',
        name: `${tag} bob 100%`,
        key_hint: mine[2].key_hint,
        scopes: NON_ADMIN_SCOPES,
        created_at: mine[2].created_at,
        last_used_at: expect.any(String),
        expires_at: null,
        not_before: null,
        status: 'active',
      });
      expect(all.body.items[1].status).toBe('expiring');
      expect(JSON.stringify(all.body)).not.toMatch(/key_hash|sk-oh-[0-9A-Za-z]{36}/);

      const byUser = await call(app, `/api/admin/keys?user=alice&q=${encodeURIComponent(tag)}`, { token: admin });
      expect(byUser.body.items.map((k: { username: string }) => k.username)).toEqual(['alice', 'alice']);
      const byId = await call(app, `/api/admin/keys?user=${all.body.items[0].user_id}&q=${encodeURIComponent(tag)}`, { token: admin });
      expect(byId.body.total).toBe(1);
      const expiring = await call(app, `/api/admin/keys?status=expiring&q=${encodeURIComponent(tag)}`, { token: admin });
      expect(expiring.body.items.map((k: { id: number }) => k.id)).toEqual([mine[1].id]);
      // % and _ in a search are characters, not wildcards.
      const percent = await call(app, `/api/admin/keys?q=${encodeURIComponent('100%')}`, { token: admin });
      expect(percent.body.items.map((k: { id: number }) => k.id)).toEqual([mine[2].id]);

      const byUse = await call(app, `/api/admin/keys?sort=last_used_at&q=${encodeURIComponent(tag)}&limit=1`, { token: admin });
      expect(byUse.body.items[0].id).toBe(mine[2].id);
      const seen: number[] = [byUse.body.items[0].id];
      let cursor: string | null = byUse.body.next_cursor;
      while (cursor) {
        const page: CallResult = await call(app, `/api/admin/keys?sort=last_used_at&q=${encodeURIComponent(tag)}&limit=1&after=${cursor}`, {
          token: admin,
        });
        expect(page.body.total).toBe(3);
        seen.push(...page.body.items.map((k: { id: number }) => k.id));
        cursor = page.body.next_cursor;
      }
      expect(seen.sort()).toEqual(mine.map((k) => k.id).sort());
      // A cursor of one sort is refused by the other.
      expectProblem(await call(app, `/api/admin/keys?after=${byUse.body.next_cursor}`, { token: admin }), 400, 'invalid_cursor');
    });

    it('an admin revoke stops the key at once, is audited with the reason and the admin, and hides nothing from the owner', async () => {
      const key = await createKey(app, alice, { name: `revoke-me-${Date.now()}` });
      expect((await call(app, '/api/keys/current', { token: key.key })).status).toBe(200); // cached
      const res = await call(app, `/api/admin/keys/${key.id}`, { method: 'DELETE', token: admin, body: { reason: 'left the team' } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: key.id, user_id: expect.any(String), message: 'API key revoked' });
      expectProblem(await call(app, '/api/keys/current', { token: key.key }), 401, 'revoked_key');
      expectProblem(
        await call(app, `/api/admin/keys/${key.id}`, { method: 'DELETE', token: admin, body: { reason: 'again' } }),
        404,
        'api_key_not_found',
      );

      const own = await call(app, `/api/audit-events?key_id=${key.id}`, { token: alice });
      const adminId = (await call(app, '/api/keys/current', { token: admin })).body.user_id;
      expect(own.body.items[0]).toMatchObject({
        type: 'api_key.revoked',
        actor_user_id: adminId,
        key_id: key.id,
        key_name: key.name,
        details: { reason: 'left the team', by_admin: true },
      });
      const list = await call(app, '/api/keys', { token: alice });
      expect(list.body.some((k: { id: number }) => k.id === key.id)).toBe(false);
    });

    it('revokes in bulk: every named key, and says which ids had no active key', async () => {
      const keys = await Promise.all([createKey(app, alice), createKey(app, bob), createKey(app, bob)]);
      const res = await call(app, '/api/admin/keys/revoke', {
        method: 'POST',
        token: admin,
        body: { ids: [...keys.map((k) => k.id), 2147483001], reason: 'incident 42' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ revoked: keys.map((k) => k.id), not_found: [2147483001] });
      for (const key of keys) expectProblem(await call(app, '/api/keys/current', { token: key.key }), 401, 'revoked_key');
      const events = await call(app, `/api/admin/audit-events?type=api_key.revoked&limit=3`, { token: admin });
      expect(events.body.items.map((e: { key_id: number }) => e.key_id).sort()).toEqual(keys.map((k) => k.id).sort());
      expect(events.body.items.every((e: { details: { reason: string } }) => e.details.reason === 'incident 42')).toBe(true);
    });
  });

  describe('the whole audit log', () => {
    it("lists every user's events with filters and pages", async () => {
      const key = await createKey(app, bob, { name: `audit-${Date.now()}` });
      const bobId = (await call(app, '/api/keys/current', { token: bob })).body.user_id;
      const res = await call(app, `/api/admin/audit-events?user=bob&key_id=${key.id}`, { token: carol });
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        expect.objectContaining({ type: 'api_key.created', key_id: key.id, subject_user_id: bobId, actor_user_id: bobId }),
      ]);
      const first = await call(app, '/api/admin/audit-events?limit=2', { token: admin });
      expect(first.body.items).toHaveLength(2);
      const second = await call(app, `/api/admin/audit-events?limit=2&after=${first.body.next_cursor}`, { token: admin });
      expect(second.body.items[0].id).toBeLessThan(first.body.items[1].id);
      const future = await call(app, `/api/admin/audit-events?from=${new Date(Date.now() + 60_000).toISOString()}`, { token: admin });
      expect(future.body).toEqual({ items: [], next_cursor: null });
    });

    it('exports CSV: header, one row per event, RFC 4180 quoting, formulas neutralised', async () => {
      const names = ['=HYPERLINK("http://evil.example","x")', '+1 cmd', '-2', '@SUM(A1)', 'plain, with "quotes"'];
      const keys = [];
      for (const name of names) keys.push(await createKey(app, bob, { name }));
      const res = await fetch(`${app.url}/api/admin/audit-events.csv?user=bob&type=api_key.created`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="audit-events.csv"');
      const text = await res.text();
      const lines = text.split('\r\n');
      expect(lines[0]).toBe(
        'id,occurred_at,type,actor_user_id,actor_auth_type,actor_key_id,subject_user_id,key_id,key_name,key_hint,client_address,user_agent,request_id,details',
      );
      expect(lines[lines.length - 1]).toBe('');
      const rows = lines.slice(1, -1);
      const byKey = (id: number) => rows.find((r) => csvCells(r)[7] === String(id))!;
      expect(byKey(keys[0].id)).toContain(`,"'=HYPERLINK(""http://evil.example"",""x"")",`);
      expect(byKey(keys[1].id)).toContain(`,"'+1 cmd",`);
      expect(byKey(keys[2].id)).toContain(`,"'-2",`);
      expect(byKey(keys[3].id)).toContain(`,"'@SUM(A1)",`);
      expect(byKey(keys[4].id)).toContain(',"plain, with ""quotes""",');
      // details as JSON, quoted
      expect(byKey(keys[4].id)).toMatch(/,"\{""scopes"":\[.*\],""expires_at"":null\}"$/);
      expect(rows.every((r) => csvCells(r)[2] === 'api_key.created')).toBe(true);
      const count = await call(app, '/api/admin/audit-events?user=bob&type=api_key.created&limit=200', { token: admin });
      expect(rows).toHaveLength(count.body.items.length);
      expect(text).not.toMatch(/sk-oh-[0-9A-Za-z]{36}/);
    });

    it('streams an export longer than one batch, newest first, every row once', async () => {
      await app.sql(
        `INSERT INTO audit_events (type, subject_user_id, details)
         SELECT 'auth.failures', 'csv-bulk-user', jsonb_build_object('count', n) FROM generate_series(1, 1234) AS n`,
      );
      const res = await fetch(`${app.url}/api/admin/audit-events.csv?user=csv-bulk-user`, {
        headers: { authorization: `Bearer ${carol}` },
      });
      expect(res.status).toBe(200);
      const rows = (await res.text()).split('\r\n').slice(1, -1);
      expect(rows).toHaveLength(1234);
      const ids = rows.map((r) => Number(csvCells(r)[0]));
      expect(ids.every((id, i) => i === 0 || id < ids[i - 1])).toBe(true);
    });
  });

  describe('organisation policy', () => {
    const put = (body: Record<string, unknown>) => call(app, '/api/admin/policy', { method: 'PUT', token: admin, body });
    let defaults: Record<string, unknown>;
    beforeAll(async () => {
      const { updated_at: _u, updated_by: _b, source: _s, ...body } = await policyOf();
      defaults = body;
    });
    afterAll(async () => {
      await put(defaults);
    });

    it('starts from the environment, readable by every signed-in user', async () => {
      const fresh = await startTestApp({
        API_KEY_MAX_LIFETIME_DAYS: '90',
        API_KEY_EXPIRY_REQUIRED: 'true',
        API_KEY_DEFAULT_SCOPES: 'keys:read',
      });
      try {
        const token = await passwordToken(fresh, 'alice');
        const res = await call(fresh, '/api/policy', { token });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({
          max_lifetime_days: 90,
          expiry_required: true,
          max_keys_per_user: 100,
          allowed_scopes: [
            'keys:read',
            'keys:write',
            'llm:read',
            'llm:write',
            'mcp',
            'webhooks:read',
            'webhooks:write',
            'admin:read',
            'admin:write',
          ],
          default_scopes: ['keys:read'],
          expiry_warning_days: 7,
          updated_at: null,
        });
        const key = await createKey(fresh, token);
        expect(key.scopes).toEqual(['keys:read']);
        expect(Date.parse(key.expires_at as string)).toBeGreaterThan(Date.now() + 89 * 86_400_000);
      } finally {
        await fresh.close();
      }
    });

    it('a change applies to the next create and rotation, is audited with before and after, and shows to users', async () => {
      const adminId = (await call(app, '/api/keys/current', { token: admin })).body.user_id;
      const changed = {
        max_lifetime_days: 30,
        expiry_required: true,
        max_keys_per_user: 100,
        allowed_scopes: ['keys:read', 'keys:write', 'mcp', 'admin:read', 'admin:write'],
        default_scopes: ['keys:read', 'mcp'],
        expiry_warning_days: 10,
      };
      const res = await put(changed);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...changed, updated_at: expect.any(String), updated_by: adminId, source: 'database' });
      expect((await call(app, '/api/policy', { token: alice })).body).toEqual({ ...changed, updated_at: res.body.updated_at });

      const created = await createKey(app, alice);
      expect(created.scopes).toEqual(['keys:read', 'mcp']);
      expect(Date.parse(created.expires_at as string)).toBeLessThanOrEqual(Date.now() + 30 * 86_400_000);
      expect(created.status).toBe('active');
      const tooLong = await call(app, '/api/keys', {
        method: 'POST',
        token: alice,
        body: { name: 'long', expires_at: new Date(Date.now() + 31 * 86_400_000).toISOString() },
      });
      expectProblem(tooLong, 422, 'invalid_validity_window');
      expectProblem(
        await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: 'forever', expires_at: null } }),
        422,
        'invalid_validity_window',
      );
      const notAllowed = await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: 'llm', scopes: ['llm:read'] } });
      expectProblem(notAllowed, 422, 'validation_failed');
      expect(notAllowed.body.errors[0].field).toBe('scopes');
      // A key within the warning window now shows as expiring.
      const soon = await createKey(app, alice, { expires_at: new Date(Date.now() + 9 * 86_400_000).toISOString() });
      expect(soon.status).toBe('expiring');

      const events = await call(app, '/api/admin/audit-events?type=policy.updated&limit=1', { token: admin });
      expect(events.body.items[0]).toMatchObject({
        type: 'policy.updated',
        actor_user_id: adminId,
        details: { before: defaults, after: changed },
      });
    });

    it('caps keys per user and rotation by the stored policy', async () => {
      const dave = await startTestApp({ DEV_USERS: USERS });
      try {
        const [userToken, adminToken] = await Promise.all([passwordToken(dave, 'bob'), passwordToken(dave, 'admin')]);
        const old = await createKey(dave, userToken, { scopes: ['keys:read', 'llm:read'] });
        const base = (await call(dave, '/api/admin/policy', { token: adminToken })).body;
        const { updated_at: _u, updated_by: _b, source: _s, ...body } = base;
        const stored = await call(dave, '/api/admin/policy', {
          method: 'PUT',
          token: adminToken,
          body: {
            ...body,
            max_keys_per_user: 2,
            expiry_required: true,
            max_lifetime_days: 10,
            allowed_scopes: ['keys:read', 'keys:write'],
            default_scopes: ['keys:read'],
          },
        });
        expect(stored.status).toBe(200);
        await createKey(dave, userToken);
        expectProblem(
          await call(dave, '/api/keys', { method: 'POST', token: userToken, body: { name: 'third' } }),
          409,
          'key_limit_reached',
        );
        const rotated = await call(dave, `/api/keys/${old.id}/rotate`, { method: 'POST', token: userToken, body: {} });
        expect(rotated.status).toBe(201);
        expect(rotated.body.scopes).toEqual(['keys:read']);
        expect(Date.parse(rotated.body.expires_at)).toBeLessThanOrEqual(Date.now() + 10 * 86_400_000);
      } finally {
        await dave.close();
      }
    });
  });

  describe('overview', () => {
    it('counts keys by status, creations per day, refusals per hour and the busiest keys', async () => {
      const key = await createKey(app, bob);
      for (let i = 0; i < 3; i++) await call(app, '/api/keys/current', { token: key.key });
      await call(app, '/api/keys/current', { token: 'sk-oh-' + 'A'.repeat(36) });
      const tracker = app.running.app.get(LastUsedTracker);
      await tracker.flush(true);
      await tracker.flush(true);
      const res = await call(app, '/api/admin/overview', { token: carol });
      expect(res.status).toBe(200);
      expect(res.body.keys).toEqual({
        active: expect.any(Number),
        expiring: expect.any(Number),
        expired: expect.any(Number),
        rotated: expect.any(Number),
      });
      expect(res.body.keys.active).toBeGreaterThan(0);
      expect(res.body.created_per_day).toHaveLength(30);
      expect(res.body.created_per_day[29].count).toBeGreaterThan(0);
      expect(res.body.auth_failures_per_hour).toHaveLength(24);
      expect(res.body.top_keys.find((k: { key_id: number }) => k.key_id === key.id)).toMatchObject({ username: 'bob', requests: 3 });
    });
  });

  it('concurrent admin and user requests never cross data', async () => {
    const ids = await Promise.all(
      [alice, bob].map(async (t) => (await call(app, '/api/keys/current', { token: t })).body.user_id as string),
    );
    await Promise.all([createKey(app, alice), createKey(app, bob)]);
    const work: Array<Promise<void>> = [];
    for (let i = 0; i < 60; i++) {
      const who = i % 2;
      const token = who === 0 ? alice : bob;
      work.push(
        (async () => {
          // A user's own list, an admin's list filtered to the other user, the audit logs, and a create, all at once.
          const [own, filtered, ownAudit, adminAudit] = await Promise.all([
            call(app, '/api/keys', { token }),
            call(app, `/api/admin/keys?user=${ids[1 - who]}&limit=200`, { token: admin }),
            call(app, '/api/audit-events?limit=50', { token }),
            call(app, `/api/admin/audit-events?user=${ids[who]}&limit=50`, { token: carol }),
            i % 10 === 0 ? createKey(app, token) : Promise.resolve(undefined),
          ]);
          expect([own.status, filtered.status, ownAudit.status, adminAudit.status]).toEqual([200, 200, 200, 200]);
          expect(filtered.body.items.every((k: { user_id: string }) => k.user_id === ids[1 - who])).toBe(true);
          const others = new Set(filtered.body.items.map((k: { id: number }) => k.id));
          expect(own.body.some((k: { id: number }) => others.has(k.id))).toBe(false);
          expect(
            adminAudit.body.items.every(
              (e: { subject_user_id: string | null; actor_user_id: string | null }) =>
                e.subject_user_id === ids[who] || e.actor_user_id === ids[who],
            ),
          ).toBe(true);
        })(),
      );
    }
    await Promise.all(work);
  });
});
