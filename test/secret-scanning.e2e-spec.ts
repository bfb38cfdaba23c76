import { createHash } from 'node:crypto';
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
