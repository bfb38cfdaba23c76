import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { generateKey } from '../server/src/credentials/key-format';
import { passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * Property: whatever arrives — bodies, ids, query strings, credentials, content types, oversized
 * or non-UTF-8 values — no route answers 5xx, and every error is a well-formed problem body.
 * Deterministic (fixed seed), in process through Fastify's injector, over 10,000+ cases.
 */
const SEED = 20261129;
/** URL-encodes anything, lone surrogates included (they become U+FFFD). */
const enc = (s: string) => encodeURIComponent((s as string & { toWellFormed(): string }).toWellFormed());
const ROUTES: Array<{ method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string }> = [
  { method: 'GET', path: '/api/keys' },
  { method: 'POST', path: '/api/keys' },
  { method: 'GET', path: '/api/keys/current' },
  { method: 'DELETE', path: '/api/keys/:id' },
  { method: 'GET', path: '/api/keys/llm/byor' },
  { method: 'POST', path: '/api/keys/llm/byor/refresh' },
  { method: 'POST', path: '/api/keys/verify' },
  { method: 'GET', path: '/api/health' },
  { method: 'GET', path: '/api/auth/login' },
  { method: 'GET', path: '/api/auth/callback' },
  { method: 'POST', path: '/api/auth/logout' },
  { method: 'POST', path: '/realms/dev/protocol/openid-connect/token' },
  { method: 'GET', path: '/api/:id' },
  { method: 'GET', path: '/api/policy' },
  { method: 'GET', path: '/api/admin/keys' },
  { method: 'DELETE', path: '/api/admin/keys/:id' },
  { method: 'POST', path: '/api/admin/keys/revoke' },
  { method: 'GET', path: '/api/admin/audit-events' },
  { method: 'GET', path: '/api/admin/audit-events.csv' },
  { method: 'GET', path: '/api/admin/policy' },
  { method: 'PUT', path: '/api/admin/policy' },
  { method: 'GET', path: '/api/admin/overview' },
];
/** The admin routes' query parameters, to reach past the unknown-parameter check. */
const ADMIN_QUERY_NAMES = ['user', 'q', 'status', 'sort', 'limit', 'after', 'key_id', 'type', 'from', 'to'];

describe('Fuzz: every route, generated input (e2e)', () => {
  let app: TestApp;
  let fastify: FastifyInstance;
  let jwt: string;
  let adminJwt: string;
  let key: string;
  let serviceToken: string;

  beforeAll(async () => {
    app = await startTestApp({
      AUTH_FAILURE_LIMIT: '1000000',
      VERIFY_RATE_LIMIT_PER_MINUTE: '10000000',
      CLIENT_DIR: '/nonexistent',
      LOG_LEVEL: 'fatal',
    });
    fastify = app.running.app.getHttpAdapter().getInstance();
    jwt = await passwordToken(app, 'alice');
    adminJwt = await passwordToken(app, 'admin');
    const created = await fastify.inject({
      method: 'POST',
      url: '/api/keys',
      headers: { authorization: `Bearer ${jwt}` },
      payload: { name: 'fuzz' },
    });
    key = created.json().key;
    serviceToken = app.config.verification.serviceToken;
  });
  afterAll(() => app.close());

  const nastyString = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '../../etc/passwd',
      '%00',
      '%ff%fe',
      '{{7*7}}',
      "' OR 1=1 --",
      '<script>',
      '__proto__',
      'constructor',
      '9'.repeat(40),
      '-1',
      '1e309',
      'NaN',
      '\ud800',
    ),
    fc.string({ minLength: 300, maxLength: 600 }),
  );
  const json = fc.jsonValue({ maxDepth: 3 });
  const body = fc.oneof(
    json.map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          name: fc.oneof(nastyString, json),
          expires_at: fc.option(
            fc.oneof(
              nastyString,
              fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'Invalid' : d.toISOString())),
            ),
          ),
          scopes: fc.option(fc.oneof(json, fc.array(nastyString, { maxLength: 4 }))),
          not_before: fc.option(nastyString),
          key: fc.option(nastyString),
          reason: fc.option(fc.oneof(nastyString, json)),
          ids: fc.option(fc.oneof(json, fc.array(fc.oneof(fc.integer(), nastyString), { maxLength: 4 }))),
          max_lifetime_days: fc.option(json),
          expiry_required: fc.option(json),
          allowed_scopes: fc.option(fc.oneof(json, fc.array(nastyString, { maxLength: 3 }))),
          default_scopes: fc.option(json),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
    nastyString,
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a).toString('latin1')),
    fc.constant('x'.repeat(20000)),
  );
  const credential = fc.oneof(
    fc.constant<Record<string, string>>({}),
    fc.constantFrom('jwt', 'admin', 'key', 'broken-key', 'service').map((kind): Record<string, string> => {
      const token =
        kind === 'jwt'
          ? jwt
          : kind === 'admin'
            ? adminJwt
            : kind === 'key'
              ? key
              : kind === 'service'
                ? serviceToken
                : `${key.slice(0, -2)}zz`;
      return { authorization: `Bearer ${token}` };
    }),
    nastyString.map((v) => ({ authorization: v.replace(/[\r\n]/g, '') })),
    nastyString.map((v) => ({ authorization: `Bearer ${v.replace(/[\s]/g, '')}` })),
    nastyString.map((v) => ({ cookie: `keycloak_auth=${enc(v)}` })),
    nastyString.map((v) => ({ 'x-session-api-key': v.replace(/[\r\n]/g, '') })),
    fc.constant({ 'x-session-api-key': generateKey('sk-oh-') }),
    fc.constant({ cookie: `keycloak_auth=${'a'.repeat(5000)}` }),
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    '',
    'application/problem+json',
  );
  const idSegment = fc.oneof(
    fc.integer().map(String),
    nastyString.map((s) => enc(s)),
    fc.constantFrom('0', '-1', '2147483648', '1.5', '%2e%2e', 'current'),
  );
  const query = fc.option(
    fc
      .array(fc.tuple(fc.oneof(nastyString, fc.constantFrom(...ADMIN_QUERY_NAMES)), nastyString), { maxLength: 3 })
      .map((pairs) => pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')),
  );

  it('never answers 5xx, and every 4xx is a problem+json body', async () => {
    let cases = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        idSegment,
        query,
        credential,
        contentType,
        fc.option(body),
        fc.boolean(),
        async (route, id, qs, headers, type, payload, withXsrf) => {
          cases++;
          const url = route.path.replace(':id', id || 'x') + (qs ? `?${qs}` : '');
          const allHeaders: Record<string, string> = { ...headers };
          if (type) allHeaders['content-type'] = type;
          if (withXsrf) allHeaders['x-xsrf-token'] = 'x';
          const res = await fastify.inject({
            method: route.method,
            url,
            headers: allHeaders,
            payload: route.method === 'GET' ? undefined : (payload ?? undefined),
          });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode >= 500) throw new Error(`${route.method} ${url} → ${res.statusCode}: ${res.body.slice(0, 300)}`);
          if (res.statusCode >= 400 && !url.startsWith('/realms/')) {
            expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
            const problem = res.json();
            expect(problem.status).toBe(res.statusCode);
            expect(typeof problem.title).toBe('string');
            expect(typeof problem.type).toBe('string');
            expect(res.body).not.toMatch(/\bat .+\.(ts|js):\d+/);
          }
        },
      ),
      { seed: SEED, numRuns: 10_500, endOnFailure: true },
    );
    expect(cases).toBeGreaterThanOrEqual(10_000);
    // The run reached past the guards too, not only 401s.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(100);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(10);
  }, 120_000);
});
