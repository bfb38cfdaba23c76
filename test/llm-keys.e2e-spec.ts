import { generateKey } from '../server/src/credentials/key-format';
import { call, createKey, expectProblem, passwordToken } from './support/http';
import { LiteLlmStandIn } from './support/litellm-stand-in';
import { startTestApp, type TestApp } from './support/test-app';

const USERS = 'alice:alice,bob:bob,carol:carol,dave:dave';

async function noPlaintextLlmKeys(app: TestApp, keys: string[]): Promise<void> {
  const rows = await app.sql('SELECT * FROM llm_keys');
  const dump = JSON.stringify(rows, (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString('latin1') : v));
  expect(rows.length).toBeGreaterThan(0);
  for (const key of keys) {
    expect(dump).not.toContain(key);
    expect(app.logs.text).not.toContain(key);
  }
}

describe('BYOR LLM key through a LiteLLM proxy (e2e)', () => {
  const litellm = new LiteLlmStandIn();
  let app: TestApp;
  let alice: string;
  let aliceSub: string;
  const seen: string[] = [];

  beforeAll(async () => {
    await litellm.start();
    app = await startTestApp({
      DEV_USERS: USERS,
      LITELLM_URL: litellm.url,
      LITELLM_MASTER_KEY: litellm.masterKey,
      LITELLM_TIMEOUT_MS: '700',
    });
    alice = await passwordToken(app, 'alice');
    aliceSub = (await call(app, '/api/keys/current', { token: alice })).body.user_id;
  });
  afterAll(async () => {
    await app.close();
    await litellm.stop();
  });
  beforeEach(() => {
    litellm.mode = 'ok';
  });

  it('provisions on first use with the documented request, authenticated by the master key', async () => {
    const res = await call(app, '/api/keys/llm/byor', { token: alice });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['key']);
    expect(litellm.keys.has(res.body.key)).toBe(true);
    const [generate] = litellm.callsTo('/key/generate');
    expect(generate.bearer).toBe(litellm.masterKey);
    expect(generate.body).toMatchObject({ user_id: aliceSub, key_alias: expect.stringContaining(aliceSub), metadata: { type: 'byor' } });
    seen.push(res.body.key);
  });

  it('hands the same key out again after the proxy confirms it with /v1/models', async () => {
    const before = litellm.callsTo('/key/generate').length;
    const res = await call(app, '/api/keys/llm/byor', { token: alice });
    expect(res.body.key).toBe(seen[0]);
    expect(litellm.callsTo('/key/generate').length).toBe(before);
    expect(litellm.callsTo('/v1/models').at(-1)!.bearer).toBe(seen[0]);
  });

  it('replaces a stored key the proxy no longer accepts', async () => {
    litellm.keys.delete(seen[0]);
    const res = await call(app, '/api/keys/llm/byor', { token: alice });
    expect(res.status).toBe(200);
    expect(res.body.key).not.toBe(seen[0]);
    expect(litellm.keys.has(res.body.key)).toBe(true);
    seen.push(res.body.key);
  });

  it('refreshes: a new key, and the old one is deleted at the proxy at once', async () => {
    const old = seen.at(-1)!;
    const res = await call(app, '/api/keys/llm/byor/refresh', { method: 'POST', token: alice });
    expect(res.status).toBe(200);
    expect(res.body.key).not.toBe(old);
    expect(litellm.keys.has(old)).toBe(false);
    expect(litellm.callsTo('/key/delete').at(-1)!.body).toEqual({ keys: [old] });
    expect((await call(app, '/api/keys/llm/byor', { token: alice })).body.key).toBe(res.body.key);
    seen.push(res.body.key);
  });

  it('keeps handing out the stored key while the proxy is unreachable, but cannot provision or rotate', async () => {
    litellm.mode = 'down';
    const stored = await call(app, '/api/keys/llm/byor', { token: alice });
    expect(stored.status).toBe(200);
    expect(stored.body.key).toBe(seen.at(-1));
    const refresh = await call(app, '/api/keys/llm/byor/refresh', { method: 'POST', token: alice });
    expectProblem(refresh, 503, 'llm_gateway_unavailable');
    expect(refresh.headers.get('retry-after')).toBe('5');
    const bob = await passwordToken(app, 'bob');
    expectProblem(await call(app, '/api/keys/llm/byor', { token: bob }), 503, 'llm_gateway_unavailable');
  });

  it('answers a timeout with 503 and a proxy error with 502, keeping the stored key', async () => {
    litellm.mode = 'slow';
    const started = Date.now();
    expectProblem(await call(app, '/api/keys/llm/byor/refresh', { method: 'POST', token: alice }), 503, 'llm_gateway_unavailable');
    expect(Date.now() - started).toBeLessThan(5000);
    litellm.mode = 'error';
    const res = await call(app, '/api/keys/llm/byor/refresh', { method: 'POST', token: alice });
    expectProblem(res, 502, 'llm_gateway_error');
    expect(res.text).not.toContain(litellm.masterKey);
    litellm.mode = 'ok';
    expect((await call(app, '/api/keys/llm/byor', { token: alice })).body.key).toBe(seen.at(-1));
  });

  it('ends concurrent first calls with one key', async () => {
    const carol = await passwordToken(app, 'carol');
    const carolSub = (await call(app, '/api/keys/current', { token: carol })).body.user_id;
    const results = await Promise.all(Array.from({ length: 6 }, () => call(app, '/api/keys/llm/byor', { token: carol })));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(new Set(results.map((r) => r.body.key)).size).toBe(1);
    expect(litellm.callsTo('/key/generate').filter((c) => c.body.user_id === carolSub)).toHaveLength(1);
    expect(await app.sql('SELECT id FROM llm_keys WHERE user_id = $1', [carolSub])).toHaveLength(1);
  });

  it('needs llm:read to read and llm:write to rotate', async () => {
    const readOnly = await createKey(app, alice, { scopes: ['llm:read'] });
    expect((await call(app, '/api/keys/llm/byor', { token: readOnly.key })).status).toBe(200);
    expectProblem(await call(app, '/api/keys/llm/byor/refresh', { method: 'POST', token: readOnly.key }), 403, 'insufficient_scope');
    const none = await createKey(app, alice, { scopes: ['keys:read'] });
    expectProblem(await call(app, '/api/keys/llm/byor', { token: none.key }), 403, 'insufficient_scope');
  });

  it('stores no plaintext LLM key, and never logs the keys or the master key', async () => {
    await noPlaintextLlmKeys(app, seen);
    expect(app.logs.text).not.toContain(litellm.masterKey);
  });
});

describe('BYOR LLM key without a gateway (embedded default, e2e)', () => {
  let app: TestApp;
  let alice: string;
  let serviceToken: string;
  const verify = (key: unknown) => call(app, '/api/keys/verify', { method: 'POST', token: serviceToken, body: { key } });

  beforeAll(async () => {
    app = await startTestApp({ DEV_USERS: USERS });
    alice = await passwordToken(app, 'alice');
    serviceToken = app.config.verification.serviceToken;
  });
  afterAll(() => app.close());

  it('issues its own key on first use, marked as an LLM key, and reuses it', async () => {
    const first = await call(app, '/api/keys/llm/byor', { token: alice });
    expect(first.status).toBe(200);
    expect(first.body.key).toMatch(/^sk-oh-llm-[0-9A-Za-z]{36}$/);
    expect((await call(app, '/api/keys/llm/byor', { token: alice })).body.key).toBe(first.body.key);
    await noPlaintextLlmKeys(app, [first.body.key]);
  });

  it('rotates: the old key stops verifying at once, the new one verifies', async () => {
    const old = (await call(app, '/api/keys/llm/byor', { token: alice })).body.key;
    expect((await verify(old)).body).toMatchObject({ valid: true, code: 'VALID', kind: 'llm_key' });
    const fresh = (await call(app, '/api/keys/llm/byor/refresh', { method: 'POST', token: alice })).body.key;
    expect(fresh).not.toBe(old);
    expect((await verify(old)).body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect((await verify(fresh)).body).toMatchObject({ valid: true, code: 'VALID', kind: 'llm_key', key_id: expect.any(Number) });
  });

  it('ends concurrent first calls with one key', async () => {
    const dave = await passwordToken(app, 'dave');
    const results = await Promise.all(Array.from({ length: 6 }, () => call(app, '/api/keys/llm/byor', { token: dave })));
    expect(new Set(results.map((r) => r.body.key)).size).toBe(1);
  });

  it('an LLM key is not an API key', async () => {
    const key = (await call(app, '/api/keys/llm/byor', { token: alice })).body.key;
    expectProblem(await call(app, '/api/keys', { token: key }), 401, 'malformed_key');
  });
});

describe('POST /api/keys/verify (e2e)', () => {
  let app: TestApp;
  let alice: string;
  let aliceSub: string;
  let serviceToken: string;
  const verify = (key: unknown, token = serviceToken) => call(app, '/api/keys/verify', { method: 'POST', token, body: { key } });

  beforeAll(async () => {
    app = await startTestApp({ VERIFY_RATE_LIMIT_PER_MINUTE: '200' });
    alice = await passwordToken(app, 'alice');
    aliceSub = (await call(app, '/api/keys/current', { token: alice })).body.user_id;
    serviceToken = app.config.verification.serviceToken;
  });
  afterAll(() => app.close());

  it("answers VALID with the key's owner, id, kind, scopes and expiry", async () => {
    const expires = new Date(Date.now() + 86400e3).toISOString();
    const key = await createKey(app, alice, { scopes: ['keys:read', 'mcp'], expires_at: expires });
    const res = await verify(key.key);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      valid: true,
      code: 'VALID',
      user_id: aliceSub,
      key_id: key.id,
      kind: 'api_key',
      scopes: ['keys:read', 'mcp'],
      expires_at: expires,
    });
  });

  it('answers NOT_FOUND, EXPIRED, REVOKED, NOT_YET_VALID and MALFORMED', async () => {
    expect((await verify(generateKey('sk-oh-'))).body).toMatchObject({ valid: false, code: 'NOT_FOUND', user_id: null });

    const expired = await createKey(app, alice, { expires_at: new Date(Date.now() + 3600e3).toISOString() });
    await app.sql(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
    expect((await verify(expired.key)).body).toMatchObject({ valid: false, code: 'EXPIRED', key_id: expired.id });

    const revoked = await createKey(app, alice);
    await call(app, `/api/keys/${revoked.id}`, { method: 'DELETE', token: alice });
    expect((await verify(revoked.key)).body).toMatchObject({ valid: false, code: 'REVOKED', key_id: revoked.id });

    const early = await createKey(app, alice, { not_before: new Date(Date.now() + 3600e3).toISOString() });
    expect((await verify(early.key)).body).toMatchObject({ valid: false, code: 'NOT_YET_VALID' });

    for (const bad of ['sk-oh-abc', 'sk-oh-llm-abc', 'short', `${generateKey('sk-oh-').slice(0, -1)}x`]) {
      expect((await verify(bad)).body).toMatchObject({ valid: false, code: expect.stringMatching(/MALFORMED|NOT_FOUND/) });
    }
    expect((await verify('sk-oh-abc')).body.code).toBe('MALFORMED');
  });

  it('needs the service token', async () => {
    expectProblem(await call(app, '/api/keys/verify', { method: 'POST', body: { key: 'x' } }), 401, 'missing_credential');
    const wrong = await verify('x', 'not-the-service-token');
    expectProblem(wrong, 401, 'invalid_service_token');
    // A user's own token is not a service credential.
    expectProblem(await verify('x', alice), 401, 'invalid_service_token');
  });

  it('validates its body', async () => {
    expectProblem(await call(app, '/api/keys/verify', { method: 'POST', token: serviceToken, body: {} }), 422);
    expectProblem(await call(app, '/api/keys/verify', { method: 'POST', token: serviceToken, body: { key: 42 } }), 422);
  });
});

describe('POST /api/keys/verify rate limit (e2e)', () => {
  it('answers 429 with Retry-After past the per-minute limit', async () => {
    const app = await startTestApp({ VERIFY_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const token = app.config.verification.serviceToken;
      for (let i = 0; i < 3; i++)
        expect((await call(app, '/api/keys/verify', { method: 'POST', token, body: { key: 'sk-oh-x' } })).status).toBe(200);
      const limited = await call(app, '/api/keys/verify', { method: 'POST', token, body: { key: 'sk-oh-x' } });
      expectProblem(limited, 429, 'rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});
