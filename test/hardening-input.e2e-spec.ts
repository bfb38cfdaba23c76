import { call, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';
import { forgeToken } from './support/tokens';

describe('Input hardening (e2e)', () => {
  let app: TestApp;
  let alice: string;
  beforeAll(async () => {
    app = await startTestApp();
    alice = await passwordToken(app, 'alice');
  });
  afterAll(() => app?.close());

  describe('key names', () => {
    it.each([
      ['a right-to-left override', 'invoice\u202Etxt.exe'],
      ['only a zero-width space', '\u200B'],
      ['a next-line control (U+0085)', 'a\u0085b'],
      ['a CSI control (U+009B)', 'a\u009Bb'],
      ['a line separator (U+2028)', 'a\u2028b'],
      ['a zero-width space inside', 'alice\u200B-full'],
      ['a no-break space', 'a\u00A0b'],
      ['a lone surrogate', 'a\uD800b'],
      ['only a Hangul filler', '\u3164'],
      ['only a blank braille pattern', '\u2800'],
      ['only a combining grapheme joiner', '\u034F'],
      ['a lone combining accent', '\u0301'],
      ['a Hangul filler appended', 'ci\u3164'],
      ['a variation selector after a letter', 'ci\uFE0E'],
    ])('refuses %s with 422 on the name field', async (_label, name) => {
      const res = await call(app, '/api/keys', { method: 'POST', token: alice, body: { name } });
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.errors).toEqual([{ field: 'name', message: expect.stringContaining('visible characters') }]);
    });

    it('stores names NFC-normalised, so one name typed two ways is one name', async () => {
      const composed = 'caf\u00e9';
      const decomposed = 'cafe\u0301';
      const first = await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: decomposed } });
      expect(first.status).toBe(201);
      expect(first.body.name).toBe(composed);
      expectProblem(await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: composed } }), 409, 'duplicate_name');
    });

    it('keeps ordinary names in any script, with plain spaces', async () => {
      for (const name of ['CI 部署脚本', 'Ключ для бота', 'déploiement — prod', '🔑 laptop', '👨‍👩‍👧 family', '❤️ prod', '한국어 키']) {
        const res = await call(app, '/api/keys', { method: 'POST', token: alice, body: { name } });
        expect(res.status).toBe(201);
        expect(res.body.name).toBe(name);
      }
    });
  });

  it('answers scopes: null with a 422, not a 500', async () => {
    const res = await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: 'null-scopes', scopes: null } });
    expectProblem(res, 422, 'validation_failed');
    expect(res.body.errors).toContainEqual({ field: 'scopes', message: 'scopes must be an array' });
  });

  describe('errors that say what to do', () => {
    it('answers a missing name with "name is required" alone', async () => {
      const res = await call(app, '/api/keys', { method: 'POST', token: alice, body: {} });
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.errors).toEqual([{ field: 'name', message: 'name is required' }]);
    });

    it('answers a missing key at the verification API with "key is required" alone', async () => {
      const res = await call(app, '/api/keys/verify', { method: 'POST', token: app.config.verification.serviceToken, body: {} });
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.errors).toEqual([{ field: 'key', message: 'key is required' }]);
    });
  });

  describe('a key cannot mint keys that outlive it', () => {
    const inOneHour = () => new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, '.000Z');

    it("gives a child created by an expiring key that key's expiry when the request names none", async () => {
      const expires = inOneHour();
      const parent = await createKey(app, alice, { expires_at: expires, scopes: ['keys:read', 'keys:write'] });
      const child = await call(app, '/api/keys', { method: 'POST', token: parent.key, body: { name: 'child-inherits' } });
      expect(child.status).toBe(201);
      expect(child.body.expires_at).toBe(expires);
    });

    it('refuses a child that would live longer or forever, saying why', async () => {
      const expires = inOneHour();
      const parent = await createKey(app, alice, { expires_at: expires, scopes: ['keys:read', 'keys:write'] });
      const forever = await call(app, '/api/keys', {
        method: 'POST',
        token: parent.key,
        body: { name: 'child-forever', expires_at: null },
      });
      expectProblem(forever, 422, 'invalid_validity_window');
      expect(forever.body.errors[0]).toMatchObject({ field: 'expires_at', message: expect.stringContaining('outlives it') });
      const later = await call(app, '/api/keys', {
        method: 'POST',
        token: parent.key,
        body: { name: 'child-later', expires_at: new Date(Date.now() + 7200_000).toISOString() },
      });
      expectProblem(later, 422, 'invalid_validity_window');
      expect(later.body.detail).toContain(expires);
      const sooner = await call(app, '/api/keys', {
        method: 'POST',
        token: parent.key,
        body: { name: 'child-sooner', expires_at: new Date(Date.now() + 1800_000).toISOString() },
      });
      expect(sooner.status).toBe(201);
    });

    it("keeps a child's not_before no earlier than the creating key's", async () => {
      const parent = await createKey(app, alice, { scopes: ['keys:read', 'keys:write'] });
      const start = new Date(Date.now() - 60_000);
      await app.sql('UPDATE api_keys SET not_before = $1 WHERE id = $2', [start, parent.id]);
      // A fresh key string is needed for the new window to be read (the old one is cached).
      const fresh = await call(app, '/api/keys', {
        method: 'POST',
        token: alice,
        body: { name: 'nb-parent', scopes: ['keys:read', 'keys:write'], not_before: start.toISOString() },
      });
      const early = await call(app, '/api/keys', {
        method: 'POST',
        token: fresh.body.key,
        body: { name: 'nb-early', not_before: new Date(Date.now() - 3600_000).toISOString() },
      });
      expectProblem(early, 422, 'invalid_validity_window');
      expect(early.body.errors[0].field).toBe('not_before');
      const inherits = await call(app, '/api/keys', { method: 'POST', token: fresh.body.key, body: { name: 'nb-inherits' } });
      expect(inherits.body.not_before).toBe(start.toISOString());
    });

    it('leaves keys created by a session or a token unconstrained', async () => {
      expect(
        (await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: 'session-forever' } })).body.expires_at,
      ).toBeNull();
    });
  });

  describe('expired keys free their name and their slot', () => {
    it("lets a new key take an expired key's name; the expired one stays refused", async () => {
      const old = await createKey(app, alice, { name: 'nightly', expires_at: new Date(Date.now() + 3600_000).toISOString() });
      await app.sql("UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1", [old.id]);
      const again = await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: 'nightly' } });
      expect(again.status).toBe(201);
      expect((await call(app, '/api/keys/current', { token: again.body.key })).status).toBe(200);
      expect((await call(app, '/api/keys/current', { token: old.key })).status).toBe(401);
    });

    it('does not count expired keys towards the cap', async () => {
      const bob = await passwordToken(app, 'bob');
      const capped = await startTestApp({ API_KEY_MAX_PER_USER: '2' });
      try {
        const token = await passwordToken(capped, 'bob');
        const first = await createKey(capped, token, { expires_at: new Date(Date.now() + 3600_000).toISOString() });
        await createKey(capped, token);
        expectProblem(await call(capped, '/api/keys', { method: 'POST', token, body: { name: 'third' } }), 409, 'key_limit_reached');
        await capped.sql("UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1", [first.id]);
        expect((await call(capped, '/api/keys', { method: 'POST', token, body: { name: 'third' } })).status).toBe(201);
      } finally {
        await capped.close();
      }
      expect(bob).toBeTruthy();
    });
  });

  describe('deeply nested JSON', () => {
    it.each(['/api/keys', '/api/keys/verify'])('answers %s with a 400 problem, not a stack overflow', async (path) => {
      const deep = `{"name":"x","key":"x","scopes":${'['.repeat(1500)}${']'.repeat(1500)}}`;
      const res = await call(app, path, {
        method: 'POST',
        token: path.endsWith('verify') ? app.config.verification.serviceToken : alice,
        rawBody: deep,
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(res, 400, 'bad_request');
      expect(res.body.detail).toBe('The JSON body is nested deeper than 32 levels.');
    });

    it('still takes ordinary bodies with arrays', async () => {
      expect(
        (await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: 'nested-ok', scopes: ['keys:read'] } })).status,
      ).toBe(201);
    });
  });

  describe('access token claims', () => {
    let sub: string;
    beforeAll(async () => {
      sub = (await call(app, '/api/keys/current', { token: alice })).body.user_id;
    });

    it('refuses a subject that is not a short printable string', async () => {
      for (const bad of [42, { id: 'x' }, ['alice'], 'x'.repeat(5000), 'a\u0000b', '']) {
        expectProblem(await call(app, '/api/keys', { token: await forgeToken(app, sub, { sub: bad }) }), 401, 'invalid_token');
      }
    });

    it('refuses a token without exp', async () => {
      const res = await call(app, '/api/keys', { token: await forgeToken(app, sub, { exp: undefined }) });
      expectProblem(res, 401, 'invalid_token');
      expect(res.body.detail).toContain('no expiry');
    });

    it('refuses a token that does not say it is an access token', async () => {
      expectProblem(await call(app, '/api/keys', { token: await forgeToken(app, sub, { typ: undefined }) }), 401, 'wrong_token_type');
      expectProblem(await call(app, '/api/keys', { token: await forgeToken(app, sub, { typ: 'ID' }) }), 401, 'wrong_token_type');
    });

    it('accepts an RFC 9068 access token (typ at+jwt in the header) and a Keycloak one', async () => {
      expect((await call(app, '/api/keys', { token: await forgeToken(app, sub, { typ: undefined }, { typ: 'at+jwt' }) })).status).toBe(200);
      expect((await call(app, '/api/keys', { token: await forgeToken(app, sub) })).status).toBe(200);
    });
  });

  describe('secrets in request paths never reach the log', () => {
    it('masks API keys, LLM keys, gateway keys, the service token and JWTs in the access log', async () => {
      const apiKey = (await createKey(app, alice)).key;
      const llmKey = (await call(app, '/api/keys/llm/byor', { token: alice })).body.key as string;
      const secrets = [apiKey, llmKey, 'sk-3f9aLk2_Qw8zR7tY1uI0oP', app.config.verification.serviceToken, alice];
      const percentEncoded = (text: string) => [...Buffer.from(text)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
      for (const secret of secrets) {
        expect((await call(app, `/api/keys/${encodeURIComponent(secret)}`, { token: alice })).status).toBeGreaterThanOrEqual(400);
        expect((await call(app, `/api/keys/${percentEncoded(secret)}`, { token: alice })).status).toBeGreaterThanOrEqual(400);
      }
      const logged = app.logs.lines.filter((l) => l.includes('request completed'));
      expect(logged.length).toBeGreaterThanOrEqual(secrets.length);
      for (const secret of secrets) {
        expect(app.logs.text).not.toContain(secret);
        expect(app.logs.text.toLowerCase()).not.toContain(percentEncoded(secret).toLowerCase());
      }
    });
  });

  it('keeps working after all that', async () => {
    expect((await createKey(app, alice)).key).toMatch(/^sk-oh-/);
  });
});

describe('Access token type check switched off (e2e)', () => {
  it('accepts an untyped token with JWT_REQUIRE_ACCESS_TOKEN_TYPE=false, but still no refresh token', async () => {
    const app = await startTestApp({ JWT_REQUIRE_ACCESS_TOKEN_TYPE: 'false' });
    try {
      const sub = (await call(app, '/api/keys/current', { token: await passwordToken(app, 'alice') })).body.user_id;
      expect((await call(app, '/api/keys', { token: await forgeToken(app, sub, { typ: undefined }) })).status).toBe(200);
      expectProblem(await call(app, '/api/keys', { token: await forgeToken(app, sub, { typ: 'Refresh' }) }), 401, 'wrong_token_type');
      expectProblem(await call(app, '/api/keys', { token: await forgeToken(app, sub, { exp: undefined }) }), 401, 'invalid_token');
    } finally {
      await app.close();
    }
  });
});
