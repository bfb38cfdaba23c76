import { createPublicKey, randomUUID } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import { generateKey } from '../server/src/credentials/key-format';
import { ApiKeysRepository } from '../server/src/database/repositories/api-keys.repository';
import { deriveKey, unseal } from '../server/src/common/sealed';
import { signIn } from './support/browser-session';
import { call, createKey, expectProblem, passwordToken } from './support/http';
import { devIdpPrivateKeyPem, startTestApp, type TestApp } from './support/test-app';

describe('Authentication (e2e)', () => {
  let app: TestApp;
  let alice: string;
  let aliceSub: string;

  /** A token signed with the embedded provider's real key, with claims to tamper with. */
  async function forgeJwt(claims: Record<string, unknown>, header: Record<string, unknown> = {}, ttl = '5m'): Promise<string> {
    const key = await importPKCS8(devIdpPrivateKeyPem(app), 'RS256');
    const jwks = (await call(app, '/realms/dev/protocol/openid-connect/certs')).body;
    const jwt = new SignJWT({ typ: 'Bearer', azp: 'cli', aud: 'account', preferred_username: 'alice', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: jwks.keys[0].kid, ...header })
      .setIssuer(app.config.oidc.issuer)
      .setSubject(aliceSub)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 900);
    return (claims.exp === undefined ? jwt.setExpirationTime(ttl) : jwt).sign(key);
  }

  beforeAll(async () => {
    // Many tests here are refusals on purpose; the limit has its own suite below.
    app = await startTestApp({ AUTH_FAILURE_LIMIT: '1000' });
    alice = await passwordToken(app, 'alice');
    aliceSub = (await call(app, '/api/keys/current', { token: alice })).body.user_id;
  });
  afterAll(() => app.close());

  describe('no credential', () => {
    it('is a 401 with a bare Bearer challenge', async () => {
      const res = await call(app, '/api/keys');
      expectProblem(res, 401, 'missing_credential');
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    });

    it('does not accept a key in the query string', async () => {
      const key = await createKey(app, alice);
      expectProblem(await call(app, `/api/keys?access_token=${key.key}`), 401, 'missing_credential');
    });
  });

  describe('one parse of the credential', () => {
    it('accepts RFC 6750 "Bearer" with several spaces and any case, on a cache miss as on a hit', async () => {
      for (const scheme of ['Bearer  ', 'bearer ', 'BEARER   ']) {
        const key = await createKey(app, alice);
        const first = await call(app, '/api/keys/current', { headers: { authorization: `${scheme}${key.key}` } });
        expect(first.status).toBe(200);
        expect(first.body.id).toBe(key.id);
        expect((await call(app, '/api/keys/current', { headers: { authorization: `${scheme}${key.key}` } })).status).toBe(200);
      }
      const jwt = await call(app, '/api/keys/current', { headers: { authorization: `Bearer  ${await passwordToken(app, 'alice')}` } });
      expect(jwt.body).toMatchObject({ auth_type: 'jwt', user_id: aliceSub });
    });

    it('reads the credential from the header only: an access_token member in the body changes nothing', async () => {
      const key = await createKey(app, alice);
      const res = await call(app, '/api/keys', { method: 'POST', token: key.key, body: { name: 'body-token', access_token: key.key } });
      // Refused by validation (unknown member), not by authentication.
      expectProblem(res, 422, 'validation_failed');
    });
  });

  describe('each strategy', () => {
    it('accepts an API key as Bearer', async () => {
      const key = await createKey(app, alice, { name: 'bearer-key' });
      const res = await call(app, '/api/keys/current', { token: key.key });
      expect(res.body).toEqual({
        id: key.id,
        name: 'bearer-key',
        user_id: aliceSub,
        auth_type: 'api_key',
        scopes: ['keys:read', 'keys:write', 'llm:read', 'llm:write', 'mcp'],
      });
    });

    it('accepts a Keycloak-style JWT as Bearer', async () => {
      const res = await call(app, '/api/keys/current', { token: alice });
      expect(res.body).toMatchObject({ user_id: aliceSub, auth_type: 'jwt', username: 'alice' });
      expect(res.body.id).toBeUndefined();
    });

    it('accepts the keycloak_auth session cookie from the console sign-in', async () => {
      const { jar, finalLocation } = await signIn(app, 'alice');
      expect(finalLocation).toBe('/settings/api-keys');
      expect(jar.cookies.has('keycloak_auth')).toBe(true);
      expect(jar.cookies.has('XSRF-TOKEN')).toBe(true);
      const res = await call(app, '/api/keys/current', { headers: { cookie: jar.header() } });
      expect(res.body).toEqual({ user_id: aliceSub, auth_type: 'cookie', scopes: expect.any(Array), username: 'alice' });
    });

    it('accepts X-Session-API-Key as an MCP client', async () => {
      const key = await createKey(app, alice);
      const res = await call(app, '/api/keys/current', { headers: { 'x-session-api-key': key.key } });
      expect(res.body).toMatchObject({ id: key.id, auth_type: 'mcp' });
    });

    it('answers many callers at once, each with its own credential, and a rotated key with what it may do now', async () => {
      // "Who am I" bodies are made once per key or token and kept: under concurrent load from
      // two users with keys, MCP headers and JWTs, every answer must still be the caller's own.
      const bob = await passwordToken(app, 'bob');
      const bobSub = (await call(app, '/api/keys/current', { token: bob })).body.user_id as string;
      const aliceKeys = [await createKey(app, alice, { name: 'a1' }), await createKey(app, alice, { name: 'a2', scopes: ['keys:read'] })];
      const bobKeys = [await createKey(app, bob, { name: 'b1' }), await createKey(app, bob, { name: 'b2', scopes: ['llm:read', 'mcp'] })];
      type Caller = { headers: Record<string, string>; expected: Record<string, unknown> };
      const callers: Caller[] = [
        { headers: { authorization: `Bearer ${alice}` }, expected: { user_id: aliceSub, auth_type: 'jwt', username: 'alice' } },
        { headers: { authorization: `Bearer ${bob}` }, expected: { user_id: bobSub, auth_type: 'jwt', username: 'bob' } },
      ];
      for (const [owner, keys] of [
        [aliceSub, aliceKeys],
        [bobSub, bobKeys],
      ] as const) {
        for (const key of keys) {
          const expected = { id: key.id, name: key.name, user_id: owner, scopes: key.scopes };
          callers.push({ headers: { authorization: `Bearer ${key.key}` }, expected: { ...expected, auth_type: 'api_key' } });
          if ((key.scopes as string[]).includes('mcp'))
            callers.push({ headers: { 'x-session-api-key': key.key }, expected: { ...expected, auth_type: 'mcp' } });
        }
      }
      const picks = Array.from({ length: 240 }, (_, i) => callers[(i * 7) % callers.length]);
      const answers = await Promise.all(picks.map((caller) => call(app, '/api/keys/current', { headers: caller.headers })));
      answers.forEach((answer, i) => {
        expect(answer.status).toBe(200);
        expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(answer.body).toMatchObject(picks[i].expected);
      });

      // Rotated: the old key still works in its grace period but may no longer manage keys.
      const rotated = await call(app, `/api/keys/${aliceKeys[0].id}/rotate`, {
        method: 'POST',
        token: alice,
        body: { grace_period_seconds: 3600 },
      });
      expect(rotated.status).toBe(201);
      const after = await call(app, '/api/keys/current', { token: aliceKeys[0].key });
      expect(after.body).toMatchObject({ id: aliceKeys[0].id, scopes: ['keys:read', 'llm:read', 'llm:write', 'mcp'] });
    });

    it("refuses a wrong password at the token endpoint in OAuth's own error format", async () => {
      const res = await fetch(`${app.url}/realms/dev/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=password&client_id=cli&username=alice&password=wrong',
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_grant', error_description: 'Invalid user credentials' });
    });

    it('refuses a wrong password on the sign-in form', async () => {
      await expect(signIn(app, 'alice', 'nope')).rejects.toThrow(/sign-in refused: 401/);
    });
  });

  describe('chain order and no fallback', () => {
    it('a bad Bearer next to a valid cookie is still a 401', async () => {
      const { jar } = await signIn(app, 'alice');
      const res = await call(app, '/api/keys', { token: generateKey('sk-oh-'), headers: { cookie: jar.header() } });
      expectProblem(res, 401, 'unknown_key');
    });

    it('a malformed Authorization next to a valid cookie is still a 401', async () => {
      const { jar } = await signIn(app, 'alice');
      expectProblem(
        await call(app, '/api/keys', { headers: { authorization: 'Basic YWxpY2U6YWxpY2U=', cookie: jar.header() } }),
        401,
        'malformed_authorization',
      );
    });

    it('Bearer wins over the cookie and the MCP header', async () => {
      const key = await createKey(app, alice);
      const res = await call(app, '/api/keys/current', {
        token: key.key,
        headers: { cookie: 'keycloak_auth=garbage', 'x-session-api-key': 'garbage' },
      });
      expect(res.body.auth_type).toBe('api_key');
    });

    it('the cookie wins over the MCP header', async () => {
      const { jar } = await signIn(app, 'alice');
      const res = await call(app, '/api/keys/current', { headers: { cookie: jar.header(), 'x-session-api-key': 'garbage' } });
      expect(res.body.auth_type).toBe('cookie');
    });

    it('a bad cookie does not fall back to a valid MCP header', async () => {
      const key = await createKey(app, alice);
      expectProblem(
        await call(app, '/api/keys/current', { headers: { cookie: 'keycloak_auth=garbage', 'x-session-api-key': key.key } }),
        401,
      );
    });

    it.each([
      ['Basic credentials', 'Basic YWxpY2U6YWxpY2U='],
      ['a bare Bearer', 'Bearer'],
      ['two tokens', 'Bearer a b'],
      ['an empty header', ''],
      ['a token with spaces inside', 'Bearer sk-oh- abc'],
    ])('refuses %s as a malformed Authorization header', async (_label, authorization) => {
      const res = await call(app, '/api/keys', { headers: { authorization } });
      expectProblem(res, 401, 'malformed_authorization');
      expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });
  });

  describe('API key states', () => {
    it('refuses a key whose checksum is broken, without touching the database', async () => {
      const key = await createKey(app, alice);
      const broken = key.key.slice(0, 10) + (key.key[10] === 'a' ? 'b' : 'a') + key.key.slice(11);
      const lookups = jest.spyOn(app.running.app.get(ApiKeysRepository), 'findByHash');
      const res = await call(app, '/api/keys', { token: broken });
      expectProblem(res, 401, 'malformed_key');
      expect(res.headers.get('www-authenticate')).toContain('error_description="The API key is malformed or its checksum does not match."');
      expect(lookups).not.toHaveBeenCalled();
      lookups.mockRestore();
    });

    it('refuses an unknown key with a valid checksum', async () => {
      expectProblem(await call(app, '/api/keys', { token: generateKey('sk-oh-') }), 401, 'unknown_key');
    });

    it('refuses an expired key', async () => {
      const key = await createKey(app, alice, { expires_at: new Date(Date.now() + 3600e3).toISOString() });
      await app.sql(`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1`, [key.id]);
      expectProblem(await call(app, '/api/keys', { token: key.key }), 401, 'expired_key');
    });

    it('refuses a key before its not_before and accepts a key with a future expiry', async () => {
      const early = await createKey(app, alice, { not_before: new Date(Date.now() + 3600e3).toISOString() });
      expectProblem(await call(app, '/api/keys', { token: early.key }), 401, 'key_not_yet_valid');
      const fine = await createKey(app, alice, { expires_at: new Date(Date.now() + 3600e3).toISOString() });
      expect((await call(app, '/api/keys', { token: fine.key })).status).toBe(200);
    });

    it('refuses a revoked key on the very next request, even when it was cached', async () => {
      const key = await createKey(app, alice);
      expect((await call(app, '/api/keys', { token: key.key })).status).toBe(200);
      await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token: alice });
      expectProblem(await call(app, '/api/keys', { token: key.key }), 401, 'revoked_key');
      expectProblem(await call(app, '/api/keys', { headers: { 'x-session-api-key': key.key } }), 401, 'revoked_key');
    });
  });

  describe('JWT verification', () => {
    it('accepts a correctly forged-by-us token (control)', async () => {
      expect((await call(app, '/api/keys/current', { token: await forgeJwt({}) })).status).toBe(200);
    });

    it('refuses a tampered payload', async () => {
      const [h, , s] = alice.split('.');
      const payload = Buffer.from(
        JSON.stringify({ sub: 'someone-else', iss: app.config.oidc.issuer, exp: Math.floor(Date.now() / 1000) + 300, azp: 'cli' }),
      ).toString('base64url');
      expectProblem(await call(app, '/api/keys', { token: `${h}.${payload}.${s}` }), 401, 'invalid_token');
    });

    it('refuses an expired token (beyond the leeway)', async () => {
      const token = await forgeJwt({ exp: Math.floor(Date.now() / 1000) - 120 });
      const res = await call(app, '/api/keys', { token });
      expectProblem(res, 401, 'expired_token');
      expect(res.headers.get('www-authenticate')).toContain('The access token has expired.');
    });

    it('accepts a token expired within the leeway', async () => {
      expect((await call(app, '/api/keys', { token: await forgeJwt({ exp: Math.floor(Date.now() / 1000) - 5 }) })).status).toBe(200);
    });

    it('refuses a token not valid yet', async () => {
      expectProblem(
        await call(app, '/api/keys', { token: await forgeJwt({ nbf: Math.floor(Date.now() / 1000) + 600 }) }),
        401,
        'token_not_yet_valid',
      );
    });

    it('refuses alg "none"', async () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(
        JSON.stringify({ sub: aliceSub, iss: app.config.oidc.issuer, azp: 'cli', exp: Math.floor(Date.now() / 1000) + 300 }),
      ).toString('base64url');
      expectProblem(await call(app, '/api/keys', { token: `${header}.${payload}.` }), 401);
    });

    it('refuses HS256 signed with the public key (algorithm confusion)', async () => {
      const pem = createPublicKey(devIdpPrivateKeyPem(app)).export({ type: 'spki', format: 'pem' });
      const token = await new SignJWT({ typ: 'Bearer', azp: 'cli' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(app.config.oidc.issuer)
        .setSubject(aliceSub)
        .setExpirationTime('5m')
        .sign(new Uint8Array(Buffer.from(pem)));
      expectProblem(await call(app, '/api/keys', { token }), 401);
    });

    it('refuses another issuer', async () => {
      const key = await importPKCS8(devIdpPrivateKeyPem(app), 'RS256');
      const token = await new SignJWT({ typ: 'Bearer', azp: 'cli' })
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer('http://evil.example/realms/dev')
        .setSubject(aliceSub)
        .setExpirationTime('5m')
        .sign(key);
      expectProblem(await call(app, '/api/keys', { token }), 401, 'invalid_issuer');
    });

    it('refuses a token for another audience', async () => {
      expectProblem(
        await call(app, '/api/keys', { token: await forgeJwt({ azp: 'other-app', aud: 'other-api' }) }),
        401,
        'invalid_audience',
      );
    });

    it('refuses a refresh token used as an access token', async () => {
      const res = await fetch(`${app.url}/realms/dev/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=password&client_id=cli&username=alice&password=alice',
      });
      const { refresh_token } = (await res.json()) as { refresh_token: string };
      expectProblem(await call(app, '/api/keys', { token: refresh_token }), 401, 'wrong_token_type');
    });

    it('refuses a token signed with a key the provider does not publish', async () => {
      expectProblem(await call(app, '/api/keys', { token: await forgeJwt({}, { kid: randomUUID() }) }), 401, 'invalid_token');
    });

    it('refuses garbage that is neither a key nor a JWT', async () => {
      expectProblem(await call(app, '/api/keys', { token: 'not-a-jwt' }), 401, 'malformed_token');
    });
  });

  describe('scopes', () => {
    it("enforces a route's scope with 403 insufficient_scope naming it", async () => {
      const readOnly = await createKey(app, alice, { scopes: ['keys:read'] });
      expect((await call(app, '/api/keys', { token: readOnly.key })).status).toBe(200);
      const res = await call(app, '/api/keys', { method: 'POST', token: readOnly.key, body: { name: 'nope' } });
      expectProblem(res, 403, 'insufficient_scope');
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api", error="insufficient_scope", scope="keys:write"');
      expectProblem(await call(app, `/api/keys/${readOnly.id}`, { method: 'DELETE', token: readOnly.key }), 403, 'insufficient_scope');
    });

    it("cannot grant what it does not have; a new key inherits the creator's scopes by default", async () => {
      const limited = await createKey(app, alice, { scopes: ['keys:read', 'keys:write'] });
      const escalate = await call(app, '/api/keys', {
        method: 'POST',
        token: limited.key,
        body: { name: 'escalate', scopes: ['keys:read', 'llm:read'] },
      });
      expectProblem(escalate, 403, 'insufficient_scope');
      expect(escalate.body.detail).toContain('llm:read');
      const child = await call(app, '/api/keys', { method: 'POST', token: limited.key, body: { name: 'child' } });
      expect(child.status).toBe(201);
      expect(child.body.scopes).toEqual(['keys:read', 'keys:write']);
      const narrower = await call(app, '/api/keys', {
        method: 'POST',
        token: limited.key,
        body: { name: 'narrower', scopes: ['keys:read'] },
      });
      expect(narrower.body.scopes).toEqual(['keys:read']);
    });

    it('needs the mcp scope to authenticate through X-Session-API-Key', async () => {
      const noMcp = await createKey(app, alice, { scopes: ['keys:read'] });
      const res = await call(app, '/api/keys', { headers: { 'x-session-api-key': noMcp.key } });
      expectProblem(res, 403, 'insufficient_scope');
      expect(res.headers.get('www-authenticate')).toContain('scope="mcp"');
      expect((await call(app, '/api/keys', { token: noMcp.key })).status).toBe(200);
    });
  });

  describe('console session', () => {
    it('needs the XSRF double-submit token for changes, not for reads', async () => {
      const { jar } = await signIn(app, 'alice');
      const cookie = jar.header();
      expect((await call(app, '/api/keys', { headers: { cookie } })).status).toBe(200);
      expectProblem(
        await call(app, '/api/keys', { method: 'POST', headers: { cookie }, body: { name: 'csrf' } }),
        403,
        'csrf_token_invalid',
      );
      expectProblem(
        await call(app, '/api/keys', { method: 'POST', headers: { cookie, 'x-xsrf-token': 'wrong' }, body: { name: 'csrf' } }),
        403,
        'csrf_token_invalid',
      );
      const ok = await call(app, '/api/keys', {
        method: 'POST',
        headers: { cookie, 'x-xsrf-token': jar.cookies.get('XSRF-TOKEN')! },
        body: { name: 'csrf' },
      });
      expect(ok.status).toBe(201);
    });

    it("ties the XSRF token to the session: a planted cookie/header pair or another session's token is refused", async () => {
      const { jar } = await signIn(app, 'alice');
      const other = await signIn(app, 'alice');
      const planted = 'attacker-chosen-token';
      const withPlantedPair = jar.header().replace(/XSRF-TOKEN=[^;]+/, `XSRF-TOKEN=${planted}`);
      expectProblem(
        await call(app, '/api/keys', {
          method: 'POST',
          headers: { cookie: withPlantedPair, 'x-xsrf-token': planted },
          body: { name: 'planted' },
        }),
        403,
        'csrf_token_invalid',
      );
      expect(other.jar.cookies.get('XSRF-TOKEN')).not.toBe(jar.cookies.get('XSRF-TOKEN'));
      expectProblem(
        await call(app, '/api/keys', {
          method: 'POST',
          headers: { cookie: jar.header(), 'x-xsrf-token': other.jar.cookies.get('XSRF-TOKEN')! },
          body: { name: 'cross-session' },
        }),
        403,
        'csrf_token_invalid',
      );
    });

    it('sets HttpOnly, SameSite=Lax cookies and keeps the XSRF token readable', async () => {
      const res = await fetch(`${app.url}/api/auth/login`, { redirect: 'manual' });
      expect(res.headers.get('location')).toMatch(/\/realms\/dev\/protocol\/openid-connect\/auth\?.*code_challenge_method=S256/);
      const tx = res.headers.getSetCookie().find((c) => c.startsWith('auth_tx='))!;
      expect(tx).toMatch(/HttpOnly/i);
      expect(tx).toMatch(/SameSite=Lax/i);
    });

    it('refreshes a session whose access token is about to lapse', async () => {
      const { jar } = await signIn(app, 'alice');
      jar.cookies.set('keycloak_auth', await forgeJwt({ azp: 'console' }, {}, '20s'));
      const res = await fetch(`${app.url}/api/keys/current`, { headers: { cookie: jar.header() } });
      expect(res.status).toBe(200);
      const renewed = res.headers.getSetCookie().find((c) => c.startsWith('keycloak_auth='));
      expect(renewed).toBeDefined();
      expect(renewed).not.toContain(jar.cookies.get('keycloak_auth'));
    });

    it('ends a session that can no longer be refreshed with a 401 and clears its cookies', async () => {
      const token = await forgeJwt({ azp: 'console', exp: Math.floor(Date.now() / 1000) - 600 });
      const res = await fetch(`${app.url}/api/keys`, { headers: { cookie: `keycloak_auth=${token}` } });
      expect(res.status).toBe(401);
      expect(res.headers.getSetCookie().some((c) => /^keycloak_auth=;/.test(c))).toBe(true);
    });

    it('signs out: cookies cleared and a logout URL at the provider', async () => {
      const { jar } = await signIn(app, 'alice');
      const res = await fetch(`${app.url}/api/auth/logout`, {
        method: 'POST',
        headers: { cookie: jar.header(), 'x-xsrf-token': jar.cookies.get('XSRF-TOKEN')! },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { logout_url: string };
      expect(body.logout_url).toContain('/realms/dev/protocol/openid-connect/logout');
      expect(res.headers.getSetCookie().some((c) => /^keycloak_auth=;/.test(c))).toBe(true);
    });

    it('signing out ends the session for good: old cookies, the old token as Bearer and the refresh token all stop working', async () => {
      const { jar } = await signIn(app, 'alice');
      const old = jar.header();
      const accessToken = jar.cookies.get('keycloak_auth')!;
      const state = JSON.parse(unseal(jar.cookies.get('keycloak_refresh')!, deriveKey(app.config.sessionSecret, 'session-cookies'))!) as {
        r: string;
      };
      expect((await call(app, '/api/keys', { headers: { cookie: old } })).status).toBe(200);
      expect((await call(app, '/api/keys', { token: accessToken })).status).toBe(200); // now cached

      const out = await call(app, '/api/auth/logout', {
        method: 'POST',
        headers: { cookie: old, 'x-xsrf-token': jar.cookies.get('XSRF-TOKEN')! },
      });
      expect(out.status).toBe(200);

      expectProblem(await call(app, '/api/keys', { headers: { cookie: old } }), 401, 'session_ended');
      expectProblem(await call(app, '/api/keys', { token: accessToken }), 401, 'session_ended');
      // Revoked at the provider (RFC 7009): the refresh token mints nothing any more.
      const refresh = await fetch(`${app.url}/realms/dev/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'console', refresh_token: state.r }),
      });
      expect(refresh.status).toBe(400);
      expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
      // And this service no longer renews the ended session, whatever the provider does.
      const nearExpiry = await forgeJwt({ azp: 'console', exp: Math.floor(Date.now() / 1000) + 20 });
      const renewal = await fetch(`${app.url}/api/keys/current`, {
        headers: { cookie: old.replace(/keycloak_auth=[^;]+/, `keycloak_auth=${nearExpiry}`) },
      });
      expect(renewal.headers.getSetCookie().some((c) => /^keycloak_auth=ey/.test(c))).toBe(false);
    });

    it("refuses a signed-out token in any of its encodings (the signature's last character carries spare bits)", async () => {
      const { jar } = await signIn(app, 'alice');
      const token = jar.cookies.get('keycloak_auth')!;
      await call(app, '/api/auth/logout', {
        method: 'POST',
        headers: { cookie: jar.header(), 'x-xsrf-token': jar.cookies.get('XSRF-TOKEN')! },
      });
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(token.at(-1)!);
      const sibling = token.slice(0, -1) + alphabet[last ^ 1];
      expect(Buffer.from(sibling.split('.')[2], 'base64url').equals(Buffer.from(token.split('.')[2], 'base64url'))).toBe(true);
      expectProblem(await call(app, '/api/keys', { token: sibling }), 401, 'session_ended');
      const cookie = jar.header().replace(token, sibling);
      expectProblem(
        await call(app, '/api/keys', {
          method: 'POST',
          headers: { cookie, 'x-xsrf-token': jar.cookies.get('XSRF-TOKEN')! },
          body: { name: 'after-logout' },
        }),
        401,
        'session_ended',
      );
    });

    it('refuses the tokens a session renewed before it was signed out, as Bearer and as cookie', async () => {
      const { jar } = await signIn(app, 'alice');
      const nearExpiry = await forgeJwt({ azp: 'console', exp: Math.floor(Date.now() / 1000) + 20 });
      const renewal = await fetch(`${app.url}/api/keys/current`, {
        headers: { cookie: jar.header().replace(/keycloak_auth=[^;]+/, `keycloak_auth=${nearExpiry}`) },
      });
      const renewed = renewal.headers
        .getSetCookie()
        .find((c) => c.startsWith('keycloak_auth='))!
        .split(';')[0]
        .slice('keycloak_auth='.length);
      expect((await call(app, '/api/keys', { token: renewed })).status).toBe(200); // cached
      await call(app, '/api/auth/logout', {
        method: 'POST',
        headers: { cookie: jar.header(), 'x-xsrf-token': jar.cookies.get('XSRF-TOKEN')! },
      });
      expectProblem(await call(app, '/api/keys', { token: renewed }), 401, 'session_ended');
      const cookie = jar.header().replace(/keycloak_auth=[^;]+/, `keycloak_auth=${renewed}`);
      expectProblem(
        await call(app, '/api/keys', {
          method: 'POST',
          headers: { cookie, 'x-xsrf-token': jar.cookies.get('XSRF-TOKEN')! },
          body: { name: 'renewed' },
        }),
        401,
        'session_ended',
      );
    });

    it("takes no XSRF token from another user's session cookie planted beside this user's token", async () => {
      const alice = await signIn(app, 'alice');
      const bob = await signIn(app, 'bob');
      const mixed = `keycloak_auth=${alice.jar.cookies.get('keycloak_auth')}; keycloak_refresh=${bob.jar.cookies.get('keycloak_refresh')}; XSRF-TOKEN=${bob.jar.cookies.get('XSRF-TOKEN')}`;
      expectProblem(
        await call(app, '/api/keys', {
          method: 'POST',
          headers: { cookie: mixed, 'x-xsrf-token': bob.jar.cookies.get('XSRF-TOKEN')! },
          body: { name: 'mixed' },
        }),
        403,
        'csrf_token_invalid',
      );
    });

    it('never redirects sign-in to another site', async () => {
      const { finalLocation } = await signIn(app, 'alice', 'alice', '//evil.example/');
      expect(finalLocation).toBe('/');
    });

    it('a callback without a started sign-in is a 400 problem', async () => {
      expectProblem(await call(app, '/api/auth/callback?code=x&state=y'), 400, 'login_expired');
    });
  });
});

describe('Failed-authentication rate limit (e2e)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ AUTH_FAILURE_LIMIT: '5', AUTH_FAILURE_WINDOW_SECONDS: '60' });
  });
  afterAll(() => app.close());

  it('answers 429 with Retry-After once an address has failed too often, even with a valid key', async () => {
    const token = await passwordToken(app, 'bob');
    const key = await createKey(app, token);
    for (let i = 0; i < 5; i++) expectProblem(await call(app, '/api/keys', { token: 'sk-oh-bad' }), 401, 'malformed_key');
    const limited = await call(app, '/api/keys', { token: 'sk-oh-bad' });
    expectProblem(limited, 429, 'too_many_failed_authentications');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expectProblem(await call(app, '/api/keys', { token: key.key }), 429);
    // Anonymous public routes stay open.
    expect((await call(app, '/api/health')).status).toBe(200);
  });
});
