import { generateKeyPair, SignJWT } from 'jose';
import { CookieJar } from './support/browser-session';
import { call, expectProblem } from './support/http';
import { SecondProvider } from './support/second-provider';
import { freePort, startTestApp, type TestApp } from './support/test-app';

/**
 * The service against a second, independent OpenID provider (panva's certified `oidc-provider`,
 * its default routes): issuer at the root, keys at /jwks, RFC 9068 `at+jwt` access tokens whose
 * `aud` is a resource indicator, and a claim name with dots in it. Configured the way the README
 * says for a non-Keycloak provider: OIDC_ISSUER, OIDC_AUDIENCE, OIDC_USERNAME_CLAIM.
 */
describe('a second, independent OpenID provider (oidc-provider)', () => {
  const provider = new SecondProvider();
  let app: TestApp;
  /** The same provider, but this instance expects another audience: every token is refused. */
  let strict: TestApp;
  let callback = '';

  beforeAll(async () => {
    const [port, strictPort] = [await freePort(), await freePort()];
    callback = `http://127.0.0.1:${port}/api/auth/callback`;
    await provider.start([callback, `http://127.0.0.1:${strictPort}/api/auth/callback`]);
    const settings = {
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: 'console',
      OIDC_USERNAME_CLAIM: 'https://keys.test/username',
      JWT_CLOCK_TOLERANCE_SECONDS: '0',
      JWKS_COOLDOWN_SECONDS: '2',
      // The rotation test sends many made-up kids from this one address.
      AUTH_FAILURE_LIMIT: '1000',
    };
    app = await startTestApp({ ...settings, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, OIDC_AUDIENCE: provider.audience });
    strict = await startTestApp({
      ...settings,
      PORT: String(strictPort),
      PUBLIC_URL: `http://127.0.0.1:${strictPort}`,
      OIDC_AUDIENCE: 'https://another-api.example',
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await strict?.close();
    await provider.stop();
  });

  it('accepts its access tokens for listing, creating and deleting keys, with the user from the configured claims', async () => {
    const token = await provider.accessToken('carol', callback);
    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });

    const current = await call(app, '/api/keys/current', { token });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ user_id: 'carol', username: 'carol (second provider)', auth_type: 'jwt' });

    const created = await call(app, '/api/keys', { method: 'POST', token, body: { name: 'from the second provider' } });
    expect(created.status).toBe(201);
    const listed = await call(app, '/api/keys', { token });
    expect(listed.body.map((k: { id: number }) => k.id)).toEqual([created.body.id]);
    // The key it made works on its own, and another user of the provider does not see it.
    expect((await call(app, '/api/keys/current', { token: created.body.key })).body.user_id).toBe('carol');
    const dave = await provider.accessToken('dave', callback);
    expect((await call(app, '/api/keys', { token: dave })).body).toEqual([]);
    expectProblem(await call(app, `/api/keys/${created.body.id}`, { method: 'DELETE', token: dave }), 404);

    expect((await call(app, `/api/keys/${created.body.id}`, { method: 'DELETE', token })).status).toBe(200);
    expect((await call(app, '/api/keys', { token })).body).toEqual([]);
  });

  it('refuses its tokens where another audience is expected', async () => {
    const token = await provider.accessToken('carol', callback);
    expectProblem(await call(strict, '/api/keys', { token }), 401, 'invalid_audience');
  });

  it('refuses an expired token, one signed with a foreign key under its kid, and one with alg "none"', async () => {
    const brief = await provider.accessToken('brief-erin', callback);
    expect((await call(app, '/api/keys', { token: brief })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 3100));
    expectProblem(await call(app, '/api/keys', { token: brief }), 401, 'expired_token');

    const genuine = await provider.accessToken('carol', callback);
    const [header, payload] = genuine.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
    const foreign = await generateKeyPair('RS256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(foreign.privateKey);
    expectProblem(await call(app, '/api/keys', { token: forged }), 401, 'invalid_token');
    const unknownKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'not-published' })
      .sign(foreign.privateKey);
    expectProblem(await call(app, '/api/keys', { token: unknownKid }), 401, 'invalid_token');

    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid })).toString('base64url')}.${payload}.`;
    expectProblem(await call(app, '/api/keys', { token: unsigned }), 401, 'invalid_token');
    // None of that disturbs the genuine token.
    expect((await call(app, '/api/keys', { token: genuine })).status).toBe(200);
  });

  it('accepts a key the provider rotates in within the cooldown, while made-up kids keep arriving', async () => {
    expect((await call(app, '/api/keys', { token: await provider.accessToken('carol', callback) })).status).toBe(200);
    const newKid = await provider.rotate();
    const fresh = await provider.accessToken('carol', callback);
    expect(JSON.parse(Buffer.from(fresh.split('.')[0], 'base64url').toString()).kid).toBe(newKid);

    // Someone sends tokens naming kids nobody publishes, as fast as they can.
    const { privateKey } = await generateKeyPair('RS256');
    let flooding = true;
    const flood = (async () => {
      for (let i = 0; flooding; i++) {
        const junk = await new SignJWT({ sub: 'x', aud: provider.audience, exp: Math.floor(Date.now() / 1000) + 60 })
          .setIssuer(provider.issuer)
          .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: `made-up-${i}` })
          .sign(privateKey);
        await call(app, '/api/keys', { token: junk });
      }
    })();
    const started = Date.now();
    let status = 0;
    try {
      while (Date.now() - started < 8000) {
        status = (await call(app, '/api/keys', { token: fresh })).status;
        if (status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      flooding = false;
      await flood;
    }
    expect(status).toBe(200);
    // Within the 2 s cooldown (plus scheduling slack on a shared machine), not after jwks-rsa's minute budget.
    expect(Date.now() - started).toBeLessThan(2000 + 2500);
  });

  it('signs the console in with code + PKCE at this provider', async () => {
    const jar = new CookieJar();
    const start = await fetch(`${app.url}/api/auth/login?return_to=%2Fsettings%2Fapi-keys`, { redirect: 'manual' });
    jar.absorb(start);
    const authorize = start.headers.get('location')!;
    expect(authorize.startsWith(`${provider.issuer}/auth?`)).toBe(true);
    expect(new URL(authorize).searchParams.get('code_challenge_method')).toBe('S256');

    const back = await provider.login(jar, authorize, 'frank');
    expect(back.startsWith(callback)).toBe(true);
    const finished = await fetch(back, { redirect: 'manual', headers: { cookie: jar.header(), accept: 'text/html' } });
    jar.absorb(finished);
    expect(finished.status).toBe(302);
    expect(finished.headers.get('location')).toBe('/settings/api-keys');
    const current = await fetch(`${app.url}/api/keys/current`, { headers: { cookie: jar.header() } });
    expect(await current.json()).toMatchObject({ user_id: 'frank', auth_type: 'cookie' });
  });

  it('ends a refused sign-in on a readable page that says why, sets no session, and never redirects by itself', async () => {
    const jar = new CookieJar();
    const start = await fetch(`${strict.url}/api/auth/login`, { redirect: 'manual' });
    jar.absorb(start);
    const back = await provider.login(jar, start.headers.get('location')!, 'grace');
    const page = await fetch(back, { redirect: 'manual', headers: { cookie: jar.header(), accept: 'text/html,*/*;q=0.8' } });
    jar.absorb(page);
    expect(page.status).toBe(401);
    expect(page.headers.get('location')).toBeNull();
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('<code data-testid="sign-in-failure-code">invalid_audience</code>');
    expect(html).toContain('href="/api/auth/login?return_to=%2F"');
    expect(html).toContain(`href="${provider.issuer}/session/end?`);
    expect(html).not.toMatch(/http-equiv|<script/i);
    expect(jar.cookies.has('keycloak_auth')).toBe(false);
    // The operator learns what the token said and what was expected.
    const messages = strict.logs.lines.map((line) => String((JSON.parse(line) as { msg?: unknown }).msg));
    expect(messages.find((m) => m.startsWith('Sign-in refused (invalid_audience)'))).toContain(`aud="${provider.audience}" azp="console"`);
  });

  it('answers an API client on a refused sign-in with a problem instead of a page', async () => {
    const jar = new CookieJar();
    const start = await fetch(`${strict.url}/api/auth/login`, { redirect: 'manual' });
    jar.absorb(start);
    const back = await provider.login(jar, start.headers.get('location')!, 'heidi');
    const res = await fetch(back, { redirect: 'manual', headers: { cookie: jar.header(), accept: 'application/json' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ code: 'invalid_audience' });
  });
});
