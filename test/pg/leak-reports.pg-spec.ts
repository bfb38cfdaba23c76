import { call, passwordToken } from '../support/http';
import { LiteLlmStandIn } from '../support/litellm-stand-in';
import { PostgresServer } from '../support/postgres-server';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The leak endpoint is public. Before, every report of a user's LLM key waited for that user's
 * lock inside a transaction, each holding a pooled connection, while the replacement under the
 * lock waited on a slow proxy: eight reports of one key took the whole pool, and other users'
 * requests got 503 database_unavailable.
 */
describe('Leak reports of one LLM key while the proxy is slow (PostgreSQL, pool of 5)', () => {
  const pg = new PostgresServer();
  const litellm = new LiteLlmStandIn();
  let app: TestApp;

  beforeAll(async () => {
    await Promise.all([pg.start(), litellm.start()]);
    app = await startTestApp({
      DATABASE_URL: pg.url,
      DATABASE_POOL_SIZE: '5',
      DEV_USERS: 'alice:alice,bob:bob,carol:carol,dave:dave,erin:erin,frank:frank,grace:grace',
      LITELLM_URL: litellm.url,
      LITELLM_MASTER_KEY: litellm.masterKey,
      LITELLM_TIMEOUT_MS: '3000',
    });
  });
  afterAll(async () => {
    await app?.close();
    await litellm.stop();
    pg.destroy();
  });

  it('do not take the connections other users need; each report is told to come back', async () => {
    const [alice, bob] = await Promise.all([passwordToken(app, 'alice'), passwordToken(app, 'bob')]);
    const leaked = (await call(app, '/api/keys/llm/byor', { token: alice })).body.key as string;
    litellm.mode = 'slow';
    const reports = Promise.all(
      Array.from({ length: 8 }, () => call(app, '/api/secret-scanning/leaked-keys', { method: 'POST', body: [{ token: leaked }] })),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    const others = await Promise.all([call(app, '/api/keys', { token: bob }), call(app, '/api/audit-events', { token: bob })]);
    expect(others.map((r) => r.status)).toEqual([200, 200]);
    expect(Date.now() - started).toBeLessThan(1000);
    for (const answer of await reports) {
      expect(answer.status).toBe(503);
      expect(['llm_gateway_unavailable', 'llm_key_busy']).toContain(answer.body.code);
    }
    litellm.mode = 'ok';
    // The scanner's retry finishes at the proxy; the owner's next fetch gets a new key.
    expect((await call(app, '/api/secret-scanning/leaked-keys', { method: 'POST', body: [{ token: leaked }] })).status).toBe(200);
    expect(litellm.keys.has(leaked)).toBe(false);
    expect((await call(app, '/api/keys/llm/byor', { token: alice })).body.key).not.toBe(leaked);
    const verified = await call(app, '/api/keys/verify', {
      method: 'POST',
      token: app.config.verification.serviceToken,
      body: { key: leaked },
    });
    expect(verified.body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
  }, 60_000);

  it("reports of five users' keys at once do not take the connections a sixth user needs", async () => {
    // Before, the report that won each user's lock held a pooled connection while the proxy
    // answered: five users' keys reported at once took a pool of five.
    const owners = ['carol', 'dave', 'erin', 'frank', 'grace'];
    const tokens = await Promise.all(owners.map((name) => passwordToken(app, name)));
    const leaked = await Promise.all(tokens.map(async (token) => (await call(app, '/api/keys/llm/byor', { token })).body.key as string));
    const bob = await passwordToken(app, 'bob');
    litellm.mode = 'slow';
    const reports = Promise.all(
      leaked.map((token) => call(app, '/api/secret-scanning/leaked-keys', { method: 'POST', body: [{ token }] })),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    const others = await Promise.all([call(app, '/api/keys', { token: bob }), call(app, '/api/audit-events', { token: bob })]);
    expect(others.map((r) => r.status)).toEqual([200, 200]);
    expect(Date.now() - started).toBeLessThan(1000);
    for (const answer of await reports) expect(answer.status).toBe(503);
    litellm.mode = 'ok';
  }, 60_000);

  it('a key another report is handling does not stop the rest of a report', async () => {
    const [carol, dave] = await Promise.all([passwordToken(app, 'carol'), passwordToken(app, 'dave')]);
    const [first, second] = await Promise.all(
      [carol, dave].map(async (token) => (await call(app, '/api/keys/llm/byor', { token })).body.key as string),
    );
    litellm.mode = 'slow'; // the first report's call to the proxy hangs until its timeout
    const pending = call(app, '/api/secret-scanning/leaked-keys', { method: 'POST', body: [{ token: first }] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    litellm.mode = 'ok';
    const both = await call(app, '/api/secret-scanning/leaked-keys', { method: 'POST', body: [{ token: first }, { token: second }] });
    expect(both.status).toBe(503);
    expect(both.body.code).toBe('llm_key_busy');
    expect(litellm.keys.has(second)).toBe(false); // handled all the same
    expect((await pending).status).toBe(503);
  }, 60_000);
});
