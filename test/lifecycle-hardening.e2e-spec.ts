import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuditHousekeeping } from '../server/src/audit/audit.controller';
import { isPublicAddress } from '../server/src/webhooks/webhook-target';
import { call, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';
import { WebhookReceiver } from './support/webhook-receiver';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What an adversarial review of webhooks, limits, leak reports and the admin API found, each as
 * the behaviour that now holds.
 */
describe('lifecycle and webhook hardening', () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  let admin: string;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_POLL_INTERVAL_MS: '50', WEBHOOK_TIMEOUT_MS: '2000' });
    [alice, bob, admin] = await Promise.all(['alice', 'bob', 'admin'].map((u) => passwordToken(app, u)));
  });
  afterAll(async () => {
    await app.close();
    for (const close of closers) await close();
  });

  const addWebhook = async (token: string, url: string, events = ['api_key.created']) => {
    const res = await call(app, '/api/webhooks', { method: 'POST', token, body: { url, events } });
    expect(res.status).toBe(201);
    return res.body as { id: number; secret: string };
  };

  it("a receiver that never answers, and a flood of its messages, do not hold back another user's", async () => {
    const sockets: Socket[] = [];
    const silent: TcpServer = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((r) => silent.close(() => r()));
    });
    const stuck = await addWebhook(bob, `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`);
    // One test at a time per endpoint.
    expect((await call(app, `/api/webhooks/${stuck.id}/test`, { method: 'POST', token: bob })).status).toBe(202);
    expectProblem(await call(app, `/api/webhooks/${stuck.id}/test`, { method: 'POST', token: bob }), 429, 'rate_limited');
    // A flood of due messages for bob's endpoint (as many key events would make).
    await app.sql(
      `INSERT INTO webhook_deliveries (message_id, endpoint_id, event_type, payload)
       SELECT 'msg_flood' || n, $1, 'api_key.created', '{}'::jsonb FROM generate_series(1, 60) AS n`,
      [stuck.id],
    );
    const receiver = new WebhookReceiver();
    const url = await receiver.start();
    closers.push(() => receiver.close());
    receiver.secret = (await addWebhook(alice, url)).secret;
    const started = Date.now();
    await createKey(app, alice, { name: 'not-held-back' });
    await receiver.waitFor((m) => m.length >= 1, 5000);
    // Well under one receiver timeout (2 s): alice's message did not queue behind bob's.
    expect(Date.now() - started).toBeLessThan(1500);
    expect(receiver.messages[0].verified).toBe(true);
  });

  it('closes the connection once the status is known, even when the receiver trickles its body', async () => {
    let open = 0;
    const trickler: Server = createServer((_req, res) => {
      open++;
      res.on('close', () => open--);
      res.writeHead(200);
      const timer = setInterval(() => res.write('.'), 200);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((r) => trickler.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => trickler.close(() => r())));
    const hook = await addWebhook(bob, `http://127.0.0.1:${(trickler.address() as AddressInfo).port}/`);
    await call(app, `/api/webhooks/${hook.id}/test`, { method: 'POST', token: bob });
    let delivered = false;
    for (let i = 0; i < 100 && !delivered; i++) {
      await sleep(50);
      const [d] = (await call(app, `/api/webhooks/${hook.id}/deliveries`, { token: bob })).body.items;
      delivered = d?.status === 'delivered';
    }
    expect(delivered).toBe(true);
    await sleep(500);
    expect(open).toBe(0);
  });

  it('a replaced key in its grace period can no longer read or change webhooks', async () => {
    const key = await createKey(app, alice, {
      name: 'hooks-then-rotated',
      scopes: ['keys:read', 'keys:write', 'webhooks:read', 'webhooks:write'],
    });
    expect((await call(app, '/api/webhooks', { token: key.key })).status).toBe(200);
    await call(app, `/api/keys/${key.id}/rotate`, { method: 'POST', token: alice, body: { grace_period_seconds: 3600 } });
    const current = await call(app, '/api/keys/current', { token: key.key });
    expect(current.body.scopes).toEqual(['keys:read']);
    expectProblem(await call(app, '/api/webhooks', { token: key.key }), 403, 'insufficient_scope');
    expectProblem(
      await call(app, '/api/webhooks', {
        method: 'POST',
        token: key.key,
        body: { url: 'https://attacker.example/h', events: ['api_key.created'] },
      }),
      403,
      'insufficient_scope',
    );
  });

  it('revokes a leaked key even when the report holds text jsonb cannot store', async () => {
    const one = await createKey(app, alice, { name: 'leak-emoji' });
    const two = await createKey(app, alice, { name: 'leak-nul' });
    const res = await call(app, '/api/secret-scanning/leaked-keys', {
      method: 'POST',
      body: [
        { token: one.key, type: 'api_key', url: 'https://example.com/a', source: 'x' + '😀'.repeat(199) },
        { token: two.key, type: 'api_key', url: 'https://example.com/\u0000b', source: 'content' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.map((l: { label: string }) => l.label)).toEqual(['true_positive', 'true_positive']);
    for (const key of [one, two]) expectProblem(await call(app, '/api/keys/current', { token: key.key }), 401, 'revoked_key');
  });

  it('refuses NUL characters and unpaired surrogates with 422, never a 500', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/api/webhooks', { url: 'https://example.com/\u0000', events: ['api_key.created'] }, alice],
      ['POST', '/api/webhooks', { url: 'https://example.com/', description: 'a\u0000b', events: ['api_key.created'] }, alice],
      ['DELETE', '/api/admin/keys/1', { reason: 'a\u0000b' }, admin],
      ['DELETE', '/api/admin/keys/1', { reason: 'a\ud800b' }, admin],
      ['POST', '/api/admin/keys/revoke', { ids: [1], reason: 'a\udc00' }, admin],
      ['GET', '/api/admin/keys?q=a%00b', undefined, admin],
      ['GET', '/api/admin/keys?user=a%00b', undefined, admin],
      ['GET', '/api/admin/audit-events?user=a%00b', undefined, admin],
      ['GET', '/api/admin/audit-events?after=9223372036854775808', undefined, admin],
    ];
    for (const [method, path, body, token] of cases) {
      const res = await call(app, path, { method, token, body });
      expect([method, path, res.status]).toEqual([method, path, 422]);
      expectProblem(res, 422, 'validation_failed');
    }
  });

  it('announces an expiry once, whether the hourly job or a reused name sees it first', async () => {
    const key = await createKey(app, bob, { name: 'expired-then-reused', expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    await app.sql(`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1`, [key.id]);
    await app.running.app.get(AuditHousekeeping).run();
    await createKey(app, bob, { name: 'expired-then-reused' });
    const events = (await call(app, `/api/audit-events?key_id=${key.id}&type=api_key.expired`, { token: bob })).body.items;
    expect(events).toHaveLength(1);
  });

  it('treats IPv4-compatible IPv6 addresses as the IPv4 host they name', () => {
    expect(isPublicAddress('::7f00:1')).toBe(false);
    expect(isPublicAddress('::127.0.0.1')).toBe(false);
    expect(isPublicAddress('::808:808')).toBe(false);
  });
});
