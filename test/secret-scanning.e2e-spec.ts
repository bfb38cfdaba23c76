import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { generateKey } from '../server/src/credentials/key-format';
import { call, createKey, expectProblem, passwordToken } from './support/http';
import { LiteLlmStandIn } from './support/litellm-stand-in';
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

  it('takes null for url and source as absent (a 500 before), and still revokes', async () => {
    const key = await createKey(app, alice, { name: 'reported with nulls' });
    const res = await report([
      { token: key.key, url: null, source: null },
      { token: 'anything-at-all', url: null, source: null },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.map((label: { label: string }) => label.label)).toEqual(['true_positive', 'false_positive']);
    expectProblem(await call(app, '/api/keys/current', { token: key.key }), 401, 'revoked_key');
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

describe('leaked LLM keys are revoked at once; the owner fetches a new one', () => {
  const litellm = new LiteLlmStandIn();
  let embedded: TestApp;
  let gateway: TestApp;

  beforeAll(async () => {
    await litellm.start();
    [embedded, gateway] = await Promise.all([
      startTestApp({ DEV_USERS: 'alice:alice,bob:bob' }),
      startTestApp({ DEV_USERS: 'alice:alice,bob:bob,carol:carol', LITELLM_URL: litellm.url, LITELLM_MASTER_KEY: litellm.masterKey }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([embedded?.close(), gateway?.close()]);
    await litellm.stop();
  });
  beforeEach(() => {
    litellm.mode = 'ok';
    litellm.answersBeforeDown = Infinity;
  });

  const report = (app: TestApp, body: unknown) => call(app, '/api/secret-scanning/leaked-keys', { method: 'POST', body });
  const llmKey = async (app: TestApp, token: string) => (await call(app, '/api/keys/llm/byor', { token })).body.key as string;
  const verify = (app: TestApp, key: string) =>
    call(app, '/api/keys/verify', { method: 'POST', token: app.config.verification.serviceToken, body: { key } });

  it("two users' keys in one report: both dead at once, each owner's next fetch a new key of their own, the leak recorded", async () => {
    const [alice, bob] = await Promise.all([passwordToken(embedded, 'alice'), passwordToken(embedded, 'bob')]);
    const [aliceOld, bobOld] = await Promise.all([llmKey(embedded, alice), llmKey(embedded, bob)]);
    const res = await report(embedded, [
      { token: aliceOld, type: 'llm_key', url: 'https://github.com/octo/repo/blob/abc/.env#L2', source: 'content' },
      { token: bobOld, type: 'llm_key', url: 'https://gist.github.com/y', source: 'gist' },
      { token: generateKey('sk-oh-llm-'), type: 'llm_key' }, // well-formed, never issued
    ]);
    expect(res.status).toBe(200);
    expect(res.body.map((label: { label: string }) => label.label)).toEqual(['true_positive', 'true_positive', 'false_positive']);
    expect(res.text).not.toContain(aliceOld);

    expect((await verify(embedded, aliceOld)).body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect((await verify(embedded, bobOld)).body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    const [aliceNew, bobNew] = await Promise.all([llmKey(embedded, alice), llmKey(embedded, bob)]);
    expect(aliceNew).not.toBe(aliceOld);
    expect(bobNew).not.toBe(bobOld);
    const [aliceId, bobId] = await Promise.all(
      [alice, bob].map(async (token) => (await call(embedded, '/api/keys/current', { token })).body.user_id as string),
    );
    expect((await verify(embedded, aliceNew)).body).toMatchObject({ valid: true, kind: 'llm_key', user_id: aliceId });
    expect((await verify(embedded, bobNew)).body).toMatchObject({ valid: true, kind: 'llm_key', user_id: bobId });

    const events = (await call(embedded, '/api/audit-events?type=llm_key.leaked', { token: alice })).body.items;
    expect(events).toEqual([
      expect.objectContaining({
        actor_auth_type: 'secret_scanning',
        details: { reason: 'leak', url: 'https://github.com/octo/repo/blob/abc/.env#L2', source: 'content', signed: false },
      }),
    ]);
    // Reported again: still ours (a revoked key is remembered), and nothing more is revoked.
    expect((await report(embedded, [{ token: aliceOld }])).body[0].label).toBe('true_positive');
    expect(await llmKey(embedded, alice)).toBe(aliceNew);
    // So is a key its owner replaced before anyone reported it.
    const before = aliceNew;
    await call(embedded, '/api/keys/llm/byor/refresh', { method: 'POST', token: alice });
    expect((await report(embedded, [{ token: before }])).body[0].label).toBe('true_positive');
  });

  it('records the leak even when a replacement retired the key a moment before the report took it', async () => {
    const bob = await passwordToken(embedded, 'bob');
    const key = await llmKey(embedded, bob);
    const leakEvents = async () => (await call(embedded, '/api/audit-events?type=llm_key.leaked', { token: bob })).body.items.length;
    const before = await leakEvents();
    // The refresh's half of the race: the key retired, the row not yet replaced.
    const bobId = (await call(embedded, '/api/keys/current', { token: bob })).body.user_id as string;
    await embedded.sql(`INSERT INTO retired_llm_keys (key_hash, user_id) SELECT key_hash, user_id FROM llm_keys WHERE user_id = $1`, [
      bobId,
    ]);
    expect((await report(embedded, [{ token: key }])).body[0].label).toBe('true_positive');
    expect(await leakEvents()).toBe(before + 1);
    expect((await report(embedded, [{ token: key }])).body[0].label).toBe('true_positive');
    expect(await leakEvents()).toBe(before + 1); // once
  });

  it("a proxy's key is dead here at once and deleted at the proxy; with the proxy down, the retry deletes it", async () => {
    const alice = await passwordToken(gateway, 'alice');
    const old = await llmKey(gateway, alice);
    expect(litellm.keys.has(old)).toBe(true);

    litellm.mode = 'down';
    const refused = await report(gateway, [{ token: old, type: 'llm_key' }]);
    expectProblem(refused, 503, 'llm_gateway_unavailable');
    expect(refused.text).not.toContain(old);
    // Dead here already, whatever the proxy does; the proxy still has it until the scanner's retry.
    expect((await verify(gateway, old)).body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect(litellm.keys.has(old)).toBe(true);
    // Its owner is never handed the leaked key again: a new one needs the proxy.
    expectProblem(await call(gateway, '/api/keys/llm/byor', { token: alice }), 503, 'llm_gateway_unavailable');
    litellm.mode = 'ok';

    const res = await report(gateway, [{ token: old, type: 'llm_key' }]);
    expect(res.body[0].label).toBe('true_positive');
    expect(litellm.keys.has(old)).toBe(false);
    expect(litellm.callsTo('/key/delete').at(-1)!.body).toEqual({ keys: [old] });
    // One leak, one event, however many reports.
    expect((await call(gateway, '/api/audit-events?type=llm_key.leaked', { token: alice })).body.items).toHaveLength(1);
    const fresh = await llmKey(gateway, alice);
    expect(fresh).not.toBe(old);
    expect(litellm.keys.has(fresh)).toBe(true);
  });

  it('the proxy failing midway: each key on its own, the report answered 503, and the retry finishes with the right labels', async () => {
    const [alice, bob] = await Promise.all([passwordToken(gateway, 'alice'), passwordToken(gateway, 'bob')]);
    const apiKey = await createKey(gateway, alice, { name: 'leaked beside LLM keys' });
    const [aliceOld, bobOld] = [await llmKey(gateway, alice), await llmKey(gateway, bob)];
    const body = [{ token: apiKey.key }, { token: aliceOld }, { token: bobOld }];
    // Alice's key takes one call (deleted at the proxy); Bob's finds the proxy down.
    litellm.answersBeforeDown = 1;
    expectProblem(await report(gateway, body), 503, 'llm_gateway_unavailable');
    litellm.mode = 'ok';
    litellm.answersBeforeDown = Infinity;
    expectProblem(await call(gateway, '/api/keys/current', { token: apiKey.key }), 401, 'revoked_key');
    const aliceNew = await llmKey(gateway, alice);
    expect(aliceNew).not.toBe(aliceOld);
    expect(litellm.keys.has(aliceOld)).toBe(false);
    // Bob's is dead here at once; the proxy still knows it until the retry.
    expect((await verify(gateway, bobOld)).body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect(litellm.keys.has(bobOld)).toBe(true);

    const retried = await report(gateway, body);
    expect(retried.status).toBe(200);
    expect(retried.body.map((label: { label: string }) => label.label)).toEqual(['true_positive', 'true_positive', 'true_positive']);
    expect(await llmKey(gateway, alice)).toBe(aliceNew); // not replaced twice
    const bobNew = await llmKey(gateway, bob);
    expect(bobNew).not.toBe(bobOld);
    expect(litellm.keys.has(bobOld)).toBe(false);
  });

  it('the same key reported many times at once is revoked once; the rest are asked to come back or find it done', async () => {
    const alice = await passwordToken(gateway, 'alice');
    const old = await llmKey(gateway, alice);
    const deletesBefore = litellm.callsTo('/key/delete').length;
    const answers = await Promise.all(Array.from({ length: 6 }, () => report(gateway, [{ token: old }])));
    for (const answer of answers) {
      if (answer.status === 503) expectProblem(answer, 503, 'llm_key_busy');
      else expect(answer.body[0].label).toBe('true_positive');
    }
    expect(answers.some((a) => a.status === 200)).toBe(true);
    // Each report that was not turned away made sure of the proxy (a deleted key stays deleted).
    const deletes = litellm.callsTo('/key/delete').slice(deletesBefore);
    expect(deletes.length).toBe(answers.filter((a) => a.status === 200).length);
    expect(deletes.every((d) => (d.body as { keys: string[] }).keys[0] === old)).toBe(true);
    expect((await call(gateway, '/api/audit-events?type=llm_key.leaked', { token: alice })).body.items[0].details).toEqual({
      reason: 'leak',
      signed: false,
    });
    expect(await llmKey(gateway, alice)).not.toBe(old);
  });

  it('a key replaced here but still known to the proxy (its deletion there failed) is deleted there when reported', async () => {
    const alice = await passwordToken(gateway, 'alice');
    const old = await llmKey(gateway, alice);
    const kept = litellm.keys.get(old)!;
    await call(gateway, '/api/keys/llm/byor/refresh', { method: 'POST', token: alice });
    litellm.keys.set(old, kept); // as if the refresh's delete at the proxy had been lost
    const res = await report(gateway, [{ token: old }]);
    expect(res.status).toBe(200);
    expect(res.body[0].label).toBe('true_positive');
    expect(litellm.keys.has(old)).toBe(false);
  });

  it('a token repeated in one report is handled once, and a proxy that is down is called once, not once per token', async () => {
    const [alice, bob] = await Promise.all([passwordToken(gateway, 'alice'), passwordToken(gateway, 'bob')]);
    const [aliceOld, bobOld] = [await llmKey(gateway, alice), await llmKey(gateway, bob)];
    const before = litellm.callsTo('/key/delete').length;
    const copies = Array.from({ length: 50 }, () => ({ token: aliceOld }));
    const res = await report(gateway, copies);
    expect(res.body).toHaveLength(50);
    expect(new Set(res.body.map((label: { label: string }) => label.label))).toEqual(new Set(['true_positive']));
    expect(litellm.callsTo('/key/delete').length - before).toBe(1);

    // The proxy refusing: one call for the whole report, and no key generated on this public path.
    const [aliceNew, carolOld] = [await llmKey(gateway, alice), await llmKey(gateway, await passwordToken(gateway, 'carol'))];
    litellm.mode = 'error';
    const callsBefore = litellm.calls.length;
    const failed = await report(gateway, [
      ...Array.from({ length: 20 }, () => ({ token: bobOld })),
      { token: aliceNew },
      { token: carolOld },
    ]);
    expectProblem(failed, 502, 'llm_gateway_error');
    expect(litellm.calls.slice(callsBefore)).toEqual([expect.objectContaining({ path: '/key/delete', body: { keys: [bobOld] } })]);
    // All three are dead here at once; the proxy waits for the retry.
    for (const key of [bobOld, aliceNew, carolOld]) {
      expect((await verify(gateway, key)).body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
      expect(litellm.keys.has(key)).toBe(true);
    }
    litellm.mode = 'ok';
    const retried = await report(gateway, [{ token: bobOld }, { token: aliceNew }, { token: carolOld }]);
    expect(retried.status).toBe(200);
    for (const key of [bobOld, aliceNew, carolOld]) expect(litellm.keys.has(key)).toBe(false);
  });
});

describe('signed leak reports (SECRET_SCANNING_PUBLIC_KEYS, as GitHub signs them)', () => {
  let app: TestApp;
  let alice: string;
  const github = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const KEY_ID = 'bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c';
  const litellm = new LiteLlmStandIn();

  beforeAll(async () => {
    const publicKeys = {
      public_keys: [{ key_identifier: KEY_ID, key: github.publicKey.export({ type: 'spki', format: 'pem' }), is_current: true }],
    };
    await litellm.start();
    app = await startTestApp({
      SECRET_SCANNING_PUBLIC_KEYS: JSON.stringify(publicKeys),
      LITELLM_URL: litellm.url,
      LITELLM_MASTER_KEY: litellm.masterKey,
    });
    alice = await passwordToken(app, 'alice');
  });
  afterAll(async () => {
    await app.close();
    await litellm.stop();
  });

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

  it('an unsigned report never tells a stranger that a token is a live LLM key, even when the proxy fails', async () => {
    const llmKey = async () => (await call(app, '/api/keys/llm/byor', { token: alice })).body.key as string;
    const leaked = await llmKey();
    const body = JSON.stringify([{ token: leaked }]);
    const signedHeaders = () => ({ 'github-public-key-identifier': KEY_ID, 'github-public-key-signature': signature(body) });
    litellm.mode = 'error';
    const unsigned = await send(body);
    expect(unsigned.status).toBe(202);
    expect(unsigned.body).toEqual([]);
    expect((await send(JSON.stringify([{ token: 'sk-never-issued-by-anyone' }]))).status).toBe(202); // the same answer
    expectProblem(await send(body, signedHeaders()), 502, 'llm_gateway_error'); // GitHub is told to come back
    const verified = await call(app, '/api/keys/verify', {
      method: 'POST',
      token: app.config.verification.serviceToken,
      body: { key: leaked },
    });
    expect(verified.body).toMatchObject({ valid: false, code: 'NOT_FOUND' }); // dead here already
    litellm.mode = 'ok';
    expect((await send(body)).status).toBe(202); // and a stranger's report finishes it at the proxy
    expect(litellm.keys.has(leaked)).toBe(false);
    expect(await llmKey()).not.toBe(leaked);
  });

  it('refuses to start with keys it cannot read', async () => {
    await expect(startTestApp({ SECRET_SCANNING_PUBLIC_KEYS: '{"public_keys":[{"key_identifier":"x","key":"nope"}]}' })).rejects.toThrow(
      /SECRET_SCANNING_PUBLIC_KEYS/,
    );
  });
});
