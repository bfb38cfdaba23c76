import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signIn } from './support/browser-session';
import { call, expectProblem } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

/** Hardening items from issue 9 (outside security review), one describe per item. */

describe('(3) Sign-in return_to: a same-origin path of printable ASCII, never a 500 (e2e)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it.each([
    ['/\u017f', '/%C5%BF'], // sent as return_to=/%C5%BF: Location may not carry U+017F (ERR_INVALID_CHAR)
    ['/settings/caf\u00e9 menu', '/settings/caf%C3%A9%20menu'],
    ['/\u{1F511}?q=\u00fc#x', '/%F0%9F%94%91?q=%C3%BC#x'],
    ['/settings/api-keys?tab=a%2Fb', '/settings/api-keys?tab=a%2Fb'], // already-encoded text stays as it is
    ['/\u0000', '/'], // sent as return_to=/%00
    ['/a\u007fb', '/'],
    ['/a\u0085b', '/'],
  ])('signs in and comes back for return_to=%j', async (returnTo, expected) => {
    const { jar, finalLocation } = await signIn(app, 'alice', 'alice', returnTo);
    expect(finalLocation).toBe(expected);
    expect(jar.cookies.has('keycloak_auth')).toBe(true);
  });

  it.each([
    '//evil.example/',
    '/\\evil.example/',
    '/\t/evil.example/',
    '/\n/evil.example/',
    'https://evil.example/',
    'http:evil.example',
    'javascript:alert(1)',
    '\\\\evil.example',
    'settings',
  ])('never leaves the site: return_to=%j comes back to /', async (returnTo) => {
    const { jar, finalLocation } = await signIn(app, 'alice', 'alice', returnTo);
    expect(finalLocation).toBe('/');
    expect(jar.cookies.has('keycloak_auth')).toBe(true);
  });

  it('comes back to / from an overlong return_to', async () => {
    expect((await signIn(app, 'alice', 'alice', `/${'\u00e9'.repeat(700)}`)).finalLocation).toBe('/');
  });

  it('keeps an undecodable escape as the ASCII it is', async () => {
    // signIn encodes its argument; "%C5" alone is not UTF-8, and the query parser leaves it as text.
    const { finalLocation } = await signIn(app, 'alice', 'alice', '/x%C5');
    expect(finalLocation).toBe('/x%C5');
  });
});

describe('(11) Dev identity provider: failed sign-ins are throttled (e2e)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  /** A request from a chosen loopback source address (all of 127/8 is loopback on Linux). */
  function post(
    path: string,
    form: Record<string, string>,
    from: string,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    const body = new URLSearchParams(form).toString();
    const url = new URL(path, app.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          localAddress: from,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
  const TOKEN = '/realms/dev/protocol/openid-connect/token';
  const grant = (username: string, password: string, from: string) =>
    post(TOKEN, { grant_type: 'password', client_id: 'cli', username, password }, from);

  it('answers 429 with an OAuth error and Retry-After after 10 wrong passwords from one address', async () => {
    const from = '127.0.0.11';
    for (let i = 0; i < 10; i++) {
      const res = await grant(`nobody-${i}`, 'wrong', from); // a different user each time: the address is what counts
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toEqual({ error: 'invalid_grant', error_description: 'Invalid user credentials' });
    }
    const blocked = await grant('nobody-x', 'wrong', from);
    expect(blocked.status).toBe(429);
    expect(blocked.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(blocked.text)).toEqual({ error: 'slow_down', error_description: expect.stringMatching(/too many failed sign-ins/i) });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(300);
    // Blocked means blocked: even the right password is not checked from that address now.
    expect((await grant('alice', 'alice', from)).status).toBe(429);
    // Another address is not affected.
    expect(JSON.parse((await grant('alice', 'alice', '127.0.0.12')).text).access_token).toEqual(expect.any(String));
  });

  it('answers 429 after 10 wrong passwords for one user from many addresses', async () => {
    for (let i = 0; i < 10; i++) expect((await grant('bob', 'wrong', `127.0.1.${i + 1}`)).status).toBe(400);
    const blocked = await grant('bob', 'bob', '127.0.1.200');
    expect(blocked.status).toBe(429);
    expect(JSON.parse(blocked.text).error).toBe('slow_down');
    // Other users still sign in from a fresh address.
    expect((await grant('alice', 'alice', '127.0.1.201')).status).toBe(200);
  });

  it('throttles the sign-in form too, with a readable message', async () => {
    const from = '127.0.2.1';
    const login = await fetch(`${app.url}/api/auth/login`, { redirect: 'manual' });
    const form = await (await fetch(login.headers.get('location')!)).text();
    const loginId = /name="login_id" value="([^"]+)"/.exec(form)![1];
    const submit = (username: string, password: string) =>
      post('/realms/dev/protocol/openid-connect/auth', { login_id: loginId, username, password }, from);
    for (let i = 0; i < 10; i++) {
      const res = await submit(`someone-${i}`, 'wrong');
      expect(res.status).toBe(401);
      expect(res.text).toContain('Invalid username or password.');
    }
    const blocked = await submit('alice', 'alice');
    expect(blocked.status).toBe(429);
    expect(blocked.headers['content-type']).toMatch(/^text\/html/);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.text).toMatch(/Too many failed sign-ins\. Try again in \d+ minutes?\./);
    expect(blocked.text).toContain('name="login_id"'); // the form stays usable for later
  });

  it('does not warn about HOST on loopback', () => {
    expect(app.logs.text).not.toMatch(/HOST=/);
  });

  it('warns loudly at start when HOST is not a loopback address', async () => {
    const exposed = await startTestApp({ HOST: '0.0.0.0', LOG_LEVEL: 'warn' });
    try {
      const line = exposed.logs.lines.find((l) => l.includes('HOST=0.0.0.0'));
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({ level: expect.anything() });
      expect(line).toMatch(/development identity provider/i);
      expect(line).toMatch(/alice/);
      expect(line).not.toMatch(/alice:alice/); // names the users, not their passwords
    } finally {
      await exposed.close();
    }
  });
});

describe('(16) Unknown paths: the console only for HTML navigations, otherwise a problem+json 404 (e2e)', () => {
  let app: TestApp;
  let clientDir: string;
  const INDEX = '<!doctype html><html><head><title>stub console</title></head><body><app-root></app-root></body></html>';
  const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'; // what a browser sends on navigation
  beforeAll(async () => {
    // Independent of `npm run build:client`: a stub build stands in for the console.
    clientDir = mkdtempSync(join(tmpdir(), 'console-stub-'));
    writeFileSync(join(clientDir, 'index.html'), INDEX);
    writeFileSync(join(clientDir, 'main-ABC123.js'), 'console.log(1)');
    app = await startTestApp({ CLIENT_DIR: clientDir });
  });
  afterAll(async () => {
    await app.close();
    rmSync(clientDir, { recursive: true, force: true });
  });

  it.each(['/', '/settings/api-keys', '/settings/api-keys?x=1'])('serves index.html to a browser navigating to %s', async (path) => {
    const res = await call(app, path, { headers: { accept: HTML } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toBe(INDEX);
    expect(res.headers.get('vary')).toMatch(/accept/i);
  });

  it('answers HEAD like GET for a navigation', async () => {
    const res = await call(app, '/settings/api-keys', { method: 'HEAD', headers: { accept: HTML } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('still serves the built files', async () => {
    const res = await call(app, '/main-ABC123.js');
    expect(res.status).toBe(200);
    expect(res.text).toBe('console.log(1)');
  });

  // GET /metrics is served now (loopback only in development): see operations.e2e-spec.ts.
  it.each([
    '/.well-known/oauth-protected-resource',
    '/.well-known/openid-configuration',
    '/mcp',
    '/mcp/tools',
    '/sse',
    '/api/nope',
    '/API/nope',
    '/realms/other/protocol/openid-connect/certs',
    '/%6dcp',
    '/settings/missing.js',
  ])('answers GET %s with a problem+json 404, even to a browser', async (path) => {
    for (const accept of [HTML, '*/*', 'application/json']) {
      const res = await call(app, path, { headers: { accept } });
      expectProblem(res, 404, 'not_found');
      expect(res.text).not.toContain('stub console');
    }
  });

  it.each(['*/*', 'application/json', 'application/problem+json', 'text/html;q=0', ''])(
    'answers a non-HTML request (Accept: %j) with a problem+json 404',
    async (accept) => {
      const res = await call(app, '/settings/api-keys', { headers: accept ? { accept } : {} });
      expectProblem(res, 404, 'not_found');
    },
  );

  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])('answers %s to a console path with a problem+json 404', async (method) => {
    const res = await call(app, '/settings/api-keys', { method, headers: { accept: HTML } });
    expectProblem(res, 404, 'not_found');
  });
});
