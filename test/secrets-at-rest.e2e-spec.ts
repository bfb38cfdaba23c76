import { call, createKey, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

describe('Secrets at rest and in logs (e2e)', () => {
  let app: TestApp;
  afterAll(() => app?.close());

  it('stores no plaintext key in any table and writes none to the logs', async () => {
    app = await startTestApp({ LOG_LEVEL: 'debug' });
    const alice = await passwordToken(app, 'alice');
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) keys.push((await createKey(app, alice)).key);
    // Use them every way a client can, including failures that log warnings.
    for (const key of keys) {
      await call(app, '/api/keys/current', { token: key });
      await call(app, '/api/keys/current', { headers: { 'x-session-api-key': key } });
      await call(app, '/api/keys', { method: 'POST', body: { name: key }, headers: { cookie: `keycloak_auth=${key}` } });
    }
    await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: 'leak', extra: keys[0] } });
    const truncatedKey = keys[1].slice(0, -1);
    await call(app, '/api/keys', { token: truncatedKey });

    const tables = await app.sql<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    expect(tables.map((t) => t.table_name)).toContain('api_keys');
    for (const { table_name } of tables) {
      const rows = await app.sql(`SELECT * FROM "${table_name}"`);
      const dump = JSON.stringify(rows, (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString('latin1') : v));
      for (const key of keys) {
        expect(dump).not.toContain(key);
        expect(dump).not.toContain(key.slice(6, 30)); // not even the random part
      }
    }

    const logs = app.logs.text;
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).toContain('"url":"/api/keys/current"'); // requests were logged…
    for (const key of keys) expect(logs).not.toContain(key.slice(6)); // …without any key
    expect(logs).not.toContain(truncatedKey.slice(6));
    expect(logs).not.toContain(alice.split('.')[2]); // nor the access token
    expect(logs).not.toMatch(/"authorization":"Bearer/i);
  });
});
