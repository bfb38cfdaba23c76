import { AuditHousekeeping } from '../../server/src/audit/audit.controller';
import { call, createKey, passwordToken } from '../support/http';
import { PostgresServer } from '../support/postgres-server';
import { startTestApp, type TestApp } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('key lifecycle and webhooks with two instances on one PostgreSQL', () => {
  const pg = new PostgresServer();
  const receiver = new WebhookReceiver();
  let a: TestApp;
  let b: TestApp;
  let token: string;
  /** Each instance runs its own development provider (its own issuer): a token per instance. */
  let tokenB: string;

  beforeAll(async () => {
    await pg.start();
    const env = { DATABASE_URL: pg.url, WEBHOOK_POLL_INTERVAL_MS: '50', WEBHOOK_RETRY_DELAYS_SECONDS: '1,1,1' };
    a = await startTestApp(env);
    b = await startTestApp({
      ...env,
      API_KEY_HASH_SECRET: a.config.apiKeys.hashSecret,
      SESSION_SECRET: a.config.sessionSecret,
      LLM_KEY_ENCRYPTION_KEY: a.config.llmKeys.encryptionKey,
    });
    token = await passwordToken(a, 'alice');
    tokenB = await passwordToken(b, 'alice');
    const url = await receiver.start();
    const hook = await call(a, '/api/webhooks', {
      method: 'POST',
      token,
      body: { url, events: ['api_key.created', 'api_key.expiring', 'api_key.expired', 'api_key.rotated_key_used'] },
    });
    receiver.secret = hook.body.secret;
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await receiver.close();
    pg.destroy();
  });

  it('delivers each message once although both workers poll the outbox, also after a failure', async () => {
    receiver.failNext = 3;
    const keys = await Promise.all(
      Array.from({ length: 20 }, (_, i) => createKey(i % 2 ? b : a, i % 2 ? tokenB : token, { name: `two-workers-${i}` })),
    );
    await receiver.waitFor((m) => new Set(m.filter((x) => x.payload?.type === 'api_key.created').map((x) => x.id)).size >= 20, 15_000);
    await sleep(1500);
    const created = receiver.messages.filter((m) => m.payload?.type === 'api_key.created');
    const delivered = created.slice(3); // the first three were answered 500 and retried
    expect(new Set(delivered.map((m) => m.id)).size).toBe(delivered.length);
    expect(new Set(created.map((m) => m.payload!.data.key.id))).toEqual(new Set(keys.map((k) => k.id)));
    expect(created.every((m) => m.verified)).toBe(true);
    const rows = await a.sql<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status`);
    expect(rows).toEqual([{ status: 'delivered', n: 20 }]);
  });

  it('announces expiry once per key and threshold with the job running on both instances at once', async () => {
    const key = await createKey(a, token, { name: 'two-instance-expiry', expires_at: new Date(Date.now() + 3 * 86_400_000).toISOString() });
    const jobs = [a, b].map((app) => app.running.app.get(AuditHousekeeping));
    await Promise.all([...jobs.map((j) => j.run()), ...jobs.map((j) => j.run())]);
    await a.sql(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [key.id]);
    await Promise.all([...jobs.map((j) => j.run()), ...jobs.map((j) => j.run())]);
    await Promise.all(jobs.map((j) => j.run()));
    const events = await a.sql<{ type: string }>(`SELECT type FROM audit_events WHERE subject_key_id = $1 ORDER BY id`, [key.id]);
    expect(events.map((e) => e.type).sort()).toEqual(['api_key.created', 'api_key.expired', 'api_key.expiring']);
    await receiver.waitFor((m) => m.some((x) => x.payload?.type === 'api_key.expired' && x.payload.data.key.id === key.id));
    await sleep(500);
    const about = receiver.messages.filter((m) => m.payload?.data.key?.id === key.id).map((m) => m.payload!.type);
    expect(about.sort()).toEqual(['api_key.created', 'api_key.expired', 'api_key.expiring']);
  });

  it('rotates with a grace period on one instance: the other says so in headers, then refuses the old key', async () => {
    const old = await createKey(a, token, { name: 'rotated-with-grace' });
    expect((await call(b, '/api/keys/current', { token: old.key })).status).toBe(200); // cached on B
    const rotated = await call(a, `/api/keys/${old.id}/rotate`, { method: 'POST', token, body: { grace_period_seconds: 2 } });
    expect(rotated.status).toBe(201);
    const deadline = Date.now() + 1000;
    let during = await call(b, '/api/keys/current', { token: old.key });
    while (!during.headers.get('deprecation') && Date.now() < deadline) {
      await sleep(20);
      during = await call(b, '/api/keys/current', { token: old.key });
    }
    expect(during.status).toBe(200);
    expect(during.headers.get('deprecation')).toMatch(/^@\d+$/);
    expect(during.headers.get('sunset')).toBeTruthy();
    expect((await call(b, '/api/keys/current', { token: rotated.body.key })).status).toBe(200);
    await sleep(2200);
    for (const app of [a, b]) {
      const after = await call(app, '/api/keys/current', { token: old.key });
      expect([after.status, after.body.code]).toEqual([401, 'rotated_key']);
    }
  });

  it('records the late use of a replaced key once an hour, whichever instances see it', async () => {
    const old = await createKey(a, token, { name: 'rotated-two-instances' });
    expect((await call(a, `/api/keys/${old.id}/rotate`, { method: 'POST', token, body: {} })).status).toBe(201);
    await Promise.all(Array.from({ length: 10 }, (_, i) => call(i % 2 ? b : a, '/api/keys/current', { token: old.key })));
    await sleep(500);
    const events = await a.sql(`SELECT 1 FROM audit_events WHERE subject_key_id = $1 AND type = 'api_key.rotated_key_used'`, [old.id]);
    expect(events).toHaveLength(1);
  });

  it('holds a per-key limit across instances within the sync tolerance', async () => {
    const key = await createKey(a, token, { name: 'shared-limit', rate_limit_per_minute: 30 });
    // Well within a minute: requests alternate between the instances, a few sync intervals apart.
    const now = Date.now() % 60_000;
    if (now > 45_000) await sleep(60_000 - now + 100);
    let admitted = 0;
    for (let i = 0; i < 60; i++) {
      const res = await call(i % 2 ? b : a, '/api/keys/current', { token: key.key });
      if (res.status === 200) admitted++;
      else expect(res.status).toBe(429);
      if (i % 10 === 9) await sleep(250);
    }
    // Exactly 30 with one instance; two may each admit what they saw within one 200 ms sync interval.
    expect(admitted).toBeGreaterThanOrEqual(30);
    expect(admitted).toBeLessThanOrEqual(36);
    await sleep(300);
    expect((await call(a, '/api/keys/current', { token: key.key })).status).toBe(429);
    expect((await call(b, '/api/keys/current', { token: key.key })).status).toBe(429);
  });
});
