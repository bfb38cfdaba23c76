import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { generateKey } from '../server/src/credentials/key-format';
import { call, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('leaked-key reports (GitHub secret scanning partner format)', () => {
  let app: TestApp;
  let alice: string;

  beforeAll(async () => {
    app = await startTestApp();
    alice = await passwordToken(app, 'alice');
  });
  afterAll(() => app.close());

  const report = (body: unknown) => call(app, '/api/secret-scanning/leaked-keys', { method: 'POST', body });

  it('revokes a live key at once, labels a made-up one false positive, and never sends a token back', async () => {
    const key = await createKey(app, alice, { name: 'pushed to github' });
    expect((await call(app, '/api/keys/current', { token: key.key })).status).toBe(200);
    const madeUp = generateKey('sk-oh-'); // well-formed, checksum valid, never issued
    const res = await report([
      { token: key.key, type: 'api_key_service_api_key', url: 'https://github.com/octo/repo/blob/abc/deploy.sh#L3', source: 'content' },
      { token: madeUp, type: 'api_key_service_api_key', url: 'https://gist.github.com/x', source: 'gist' },
      { token: 'sk-oh-not-even-close', type: 'api_key_service_api_key', url: 'https://example.com', source: 'content' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { token_hash: sha256(key.key), token_type: 'api_key_service_api_key', label: 'true_positive' },
      { token_hash: sha256(madeUp), token_type: 'api_key_service_api_key', label: 'false_positive' },
      { token_hash: sha256('sk-oh-not-even-close'), token_type: 'api_key_service_api_key', label: 'false_positive' },
    ]);
    expect(res.text).not.toContain(key.key);

    expectProblem(await call(app, '/api/keys/current', { token: key.key }), 401, 'revoked_key');
    const [event] = (await call(app, `/api/audit-events?key_id=${key.id}&type=api_key.leaked`, { token: alice })).body.items;
    expect(event).toMatchObject({
      actor_auth_type: 'secret_scanning',
      key_name: 'pushed to github',
      details: { url: 'https://github.com/octo/repo/blob/abc/deploy.sh#L3', source: 'content', reason: 'leak' },
    });
    // A second report of the same key: still ours, nothing more to revoke.
    expect((await report([{ token: key.key, type: 't', url: 'u', source: 's' }])).body[0].label).toBe('true_positive');
    const leaks = (await call(app, `/api/audit-events?key_id=${key.id}&type=api_key.leaked`, { token: alice })).body.items;
    expect(leaks).toHaveLength(1);
  });

  it('refuses what is not a list of reports, with a problem', async () => {
    for (const body of [{ token: 'x' }, [{ type: 'no token' }], [{ token: 42 }], [{ nope: 1 }]]) {
      const res = await report(body);
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'body' })]);
    }
    expectProblem(await report(Array.from({ length: 101 }, () => ({ token: 'x' }))), 422, 'validation_failed');
  });

  it('limits how often one address may report', async () => {
    let limited: Awaited<ReturnType<typeof report>> | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await report([{ token: 'sk-oh-x' }]);
      if (res.status === 429) limited = res;
    }
    expect(limited).toBeDefined();
    expectProblem(limited!, 429, 'rate_limited');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('signed leak reports (SECRET_SCANNING_PUBLIC_KEYS, as GitHub signs them)', () => {
  let app: TestApp;
  let alice: string;
  const github = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const KEY_ID = 'bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c';

  beforeAll(async () => {
    const publicKeys = {
      public_keys: [{ key_identifier: KEY_ID, key: github.publicKey.export({ type: 'spki', format: 'pem' }), is_current: true }],
    };
    app = await startTestApp({ SECRET_SCANNING_PUBLIC_KEYS: JSON.stringify(publicKeys) });
    alice = await passwordToken(app, 'alice');
  });
  afterAll(() => app.close());

  const send = (body: string, headers: Record<string, string> = {}) =>
    call(app, '/api/secret-scanning/leaked-keys', {
      method: 'POST',
      rawBody: body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const signature = (body: string, key = github.privateKey) => sign('sha256', Buffer.from(body), key).toString('base64');

  it('labels a correctly signed report and records where the key was found, in one transaction for several keys', async () => {
    const one = await createKey(app, alice, { name: 'signed-leak-1' });
    const two = await createKey(app, alice, { name: 'signed-leak-2' });
    const body = JSON.stringify([
      { token: one.key, type: 'api_key', url: 'https://github.com/o/r/blob/x/a.py', source: 'content' },
      { token: two.key, type: 'api_key', url: 'https://github.com/o/r/blob/x/b.py', source: 'content' },
    ]);
    const res = await send(body, { 'github-public-key-identifier': KEY_ID, 'github-public-key-signature': signature(body) });
    expect(res.status).toBe(200);
    expect(res.body.map((l: { label: string }) => l.label)).toEqual(['true_positive', 'true_positive']);
    for (const key of [one, two]) expectProblem(await call(app, '/api/keys/current', { token: key.key }), 401, 'revoked_key');
    const [event] = (await call(app, `/api/audit-events?key_id=${two.id}&type=api_key.leaked`, { token: alice })).body.items;
    expect(event.details).toMatchObject({ url: 'https://github.com/o/r/blob/x/b.py', signed: true });
  });

  it('still revokes on an unsigned or wrongly signed report, but answers 202 without labels and records no url', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { 'github-public-key-identifier': KEY_ID, 'github-public-key-signature': 'bm90IGEgc2lnbmF0dXJl' },
      { 'github-public-key-identifier': 'unknown', 'github-public-key-signature': 'AAAA' },
    ];
    for (const headers of attempts) {
      const key = await createKey(app, alice);
      const body = JSON.stringify([{ token: key.key, type: 'api_key', url: 'https://evil.example/claims', source: 'made-up' }]);
      const res = await send(body, headers);
      expect(res.status).toBe(202);
      expect(res.body).toEqual([]);
      expectProblem(await call(app, '/api/keys/current', { token: key.key }), 401, 'revoked_key');
      const [event] = (await call(app, `/api/audit-events?key_id=${key.id}&type=api_key.leaked`, { token: alice })).body.items;
      expect(event.details).toEqual({ reason: 'leak', signed: false });
    }
    const key = await createKey(app, alice);
    const body = JSON.stringify([{ token: key.key }]);
    const res = await send(body, {
      'github-public-key-identifier': KEY_ID,
      'github-public-key-signature': signature(body, stranger.privateKey),
    });
    expect(res.status).toBe(202);
    // A signature over other bytes does not verify either (the body is checked as received).
    const other = await createKey(app, alice);
    const sent = JSON.stringify([{ token: other.key }]);
    const tampered = await send(sent, { 'github-public-key-identifier': KEY_ID, 'github-public-key-signature': signature(sent + ' ') });
    expect(tampered.status).toBe(202);
  });

  it('refuses to start with keys it cannot read', async () => {
    await expect(startTestApp({ SECRET_SCANNING_PUBLIC_KEYS: '{"public_keys":[{"key_identifier":"x","key":"nope"}]}' })).rejects.toThrow(
      /SECRET_SCANNING_PUBLIC_KEYS/,
    );
  });
});
