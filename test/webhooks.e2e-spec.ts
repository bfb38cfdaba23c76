import { Webhook } from 'standardwebhooks';
import { isPublicAddress, publicOnlyLookup, TargetRefused, urlProblem } from '../server/src/webhooks/webhook-target';
import { WebhookWorker } from '../server/src/webhooks/webhook-worker';
import { call, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';
import { WebhookReceiver } from './support/webhook-receiver';

const EVENTS = ['api_key.created', 'api_key.revoked', 'api_key.rotated', 'api_key.leaked'];

describe('webhooks (Standard Webhooks, transactional outbox)', () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  const receivers: WebhookReceiver[] = [];

  async function receiver(): Promise<{ receiver: WebhookReceiver; url: string }> {
    const r = new WebhookReceiver();
    receivers.push(r);
    return { receiver: r, url: await r.start() };
  }

  async function addWebhook(token: string, url: string, events = EVENTS): Promise<{ id: number; secret: string }> {
    const res = await call(app, '/api/webhooks', { method: 'POST', token, body: { url, events, description: 'test' } });
    expect(res.status).toBe(201);
    return res.body;
  }

  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_POLL_INTERVAL_MS: '100', WEBHOOK_RETRY_DELAYS_SECONDS: '1,1', WEBHOOK_TIMEOUT_MS: '2000' });
    alice = await passwordToken(app, 'alice');
    bob = await passwordToken(app, 'bob');
  });
  afterAll(async () => {
    await app.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('delivers a signed message for a key event, without the key, and shows the secret once', async () => {
    const { receiver: r, url } = await receiver();
    const hook = await addWebhook(alice, url);
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    r.secret = hook.secret;
    const listed = (await call(app, '/api/webhooks', { token: alice })).body;
    expect(listed).toEqual([expect.objectContaining({ id: hook.id, url, events: EVENTS, status: 'enabled' })]);
    expect(JSON.stringify(listed)).not.toContain(hook.secret);
    expect((await app.sql<{ secret_sealed: string }>('SELECT secret_sealed FROM webhook_endpoints'))[0].secret_sealed).not.toContain(
      hook.secret.slice(6),
    );

    const key = await createKey(app, alice, { name: 'hooked' });
    await r.waitFor((m) => m.some((x) => x.payload?.type === 'api_key.created'));
    const [message] = r.ofType('api_key.created');
    expect(message.verified).toBe(true);
    expect(message.headers['webhook-id']).toMatch(/^msg_evt\d+$/);
    expect(message.payload!.data).toMatchObject({ user_id: expect.any(String), key: { id: key.id, name: 'hooked' } });
    expect(message.body).not.toContain(key.key);

    await call(app, `/api/keys/${key.id}`, { method: 'DELETE', token: alice });
    await r.waitFor((m) => m.some((x) => x.payload?.type === 'api_key.revoked'));
    expect(r.ofType('api_key.revoked')[0].payload!.data.details).toMatchObject({ reason: 'owner' });

    const deliveries = (await call(app, `/api/webhooks/${hook.id}/deliveries`, { token: alice })).body;
    expect(deliveries.items.map((d: { event_type: string; status: string }) => [d.event_type, d.status])).toEqual([
      ['api_key.revoked', 'delivered'],
      ['api_key.created', 'delivered'],
    ]);
    // A receiver with another secret cannot verify it: the signature is real.
    const otherSecret = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
    expect(() => new Webhook(otherSecret).verify(message.body, message.headers as Record<string, string>)).toThrow();
  });

  it('retries a failing receiver with the same webhook-id until it answers 2xx', async () => {
    const { receiver: r, url } = await receiver();
    const hook = await addWebhook(bob, url);
    r.secret = hook.secret;
    r.failNext = 2;
    await createKey(app, bob, { name: 'retried' });
    await r.waitFor((m) => m.length >= 3, 10_000);
    const ids = new Set(r.messages.map((m) => m.id));
    expect(ids.size).toBe(1);
    expect(r.messages.every((m) => m.verified)).toBe(true);
    const [delivery] = (await call(app, `/api/webhooks/${hook.id}/deliveries`, { token: bob })).body.items;
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 204, last_error: null });
  });

  it('gives up after the retry schedule, disables the endpoint and records webhook.disabled', async () => {
    const { receiver: r, url } = await receiver();
    const carol = alice;
    const hook = await addWebhook(carol, url, ['api_key.rotated']);
    r.secret = hook.secret;
    r.status = 500;
    const key = await createKey(app, carol, { name: 'doomed-hook' });
    await call(app, `/api/keys/${key.id}/rotate`, { method: 'POST', token: carol, body: {} });
    await r.waitFor((m) => m.length >= 3, 10_000);
    const deadline = Date.now() + 5000;
    let listed: { status: string; disabled_reason: string | null; consecutive_failures: number } | undefined;
    while (Date.now() < deadline) {
      listed = (await call(app, '/api/webhooks', { token: carol })).body.find((w: { id: number }) => w.id === hook.id);
      if (listed?.status === 'disabled') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(listed).toMatchObject({ status: 'disabled', consecutive_failures: 3, disabled_reason: expect.stringMatching(/retry schedule/) });
    const [delivery] = (await call(app, `/api/webhooks/${hook.id}/deliveries`, { token: carol })).body.items;
    expect(delivery).toMatchObject({ status: 'failed', attempts: 3, last_status_code: 500, next_attempt_at: null });
    const events = (await call(app, '/api/audit-events?type=webhook.disabled', { token: carol })).body.items;
    expect(events[0].details).toMatchObject({ webhook_id: hook.id });

    // Nothing more is sent to a disabled endpoint; a test send says why; enabling resumes.
    expectProblem(await call(app, `/api/webhooks/${hook.id}/test`, { method: 'POST', token: carol }), 409, 'webhook_disabled');
    r.status = 204;
    expect((await call(app, `/api/webhooks/${hook.id}/enable`, { method: 'POST', token: carol })).body).toMatchObject({
      status: 'enabled',
      consecutive_failures: 0,
    });
    const test = await call(app, `/api/webhooks/${hook.id}/test`, { method: 'POST', token: carol });
    expect(test.status).toBe(202);
    await r.waitFor((m) => m.some((x) => x.payload?.type === 'webhook.test'));
    expect(r.ofType('webhook.test')[0]).toMatchObject({ verified: true, id: test.body.message_id });
  });

  it("keeps users apart: concurrent key events reach only their owner's endpoint; others' webhooks are 404", async () => {
    const a = await receiver();
    const b = await receiver();
    const hookA = await addWebhook(alice, a.url, ['api_key.created']);
    const hookB = await addWebhook(bob, b.url, ['api_key.created']);
    a.receiver.secret = hookA.secret;
    b.receiver.secret = hookB.secret;
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) => createKey(app, i % 2 ? bob : alice, { name: `${i % 2 ? 'bob' : 'alice'}-concurrent-${i}` })),
    );
    await a.receiver.waitFor((m) => m.length >= 6);
    await b.receiver.waitFor((m) => m.length >= 6);
    const names = (r: WebhookReceiver) => r.messages.map((m) => m.payload!.data.key.name as string).sort();
    expect(names(a.receiver)).toEqual(
      created
        .filter((_, i) => i % 2 === 0)
        .map((k) => k.name as string)
        .sort(),
    );
    expect(names(b.receiver)).toEqual(
      created
        .filter((_, i) => i % 2 === 1)
        .map((k) => k.name as string)
        .sort(),
    );
    expect([...a.receiver.messages, ...b.receiver.messages].every((m) => m.verified)).toBe(true);

    expectProblem(await call(app, `/api/webhooks/${hookA.id}/deliveries`, { token: bob }), 404, 'webhook_not_found');
    expectProblem(await call(app, `/api/webhooks/${hookA.id}`, { method: 'DELETE', token: bob }), 404, 'webhook_not_found');
    expectProblem(await call(app, `/api/webhooks/${hookA.id}/test`, { method: 'POST', token: bob }), 404, 'webhook_not_found');
    expect((await call(app, '/api/webhooks', { token: bob })).body.map((w: { id: number }) => w.id)).not.toContain(hookA.id);
    expect((await call(app, `/api/webhooks/${hookA.id}`, { method: 'DELETE', token: alice })).status).toBe(204);
  });

  it('gives keys the webhook scopes only when asked, and refuses bad input with problems', async () => {
    const plain = await createKey(app, alice, { name: 'no-webhooks' });
    expect(plain.scopes).not.toContain('webhooks:read');
    expectProblem(await call(app, '/api/webhooks', { token: plain.key }), 403, 'insufficient_scope');
    const reader = await createKey(app, alice, { name: 'webhook-reader', scopes: ['webhooks:read'] });
    expect((await call(app, '/api/webhooks', { token: reader.key })).status).toBe(200);
    expectProblem(
      await call(app, '/api/webhooks', { method: 'POST', token: reader.key, body: { url: 'https://example.com', events: EVENTS } }),
      403,
      'insufficient_scope',
    );

    const bad = async (body: unknown, field: string) => {
      const res = await call(app, '/api/webhooks', { method: 'POST', token: alice, body });
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    };
    await bad({ url: 'not a url', events: EVENTS }, 'url');
    await bad({ url: 'ftp://example.com/x', events: EVENTS }, 'url');
    await bad({ url: 'https://user:pw@example.com/x', events: EVENTS }, 'url');
    await bad({ url: 'https://example.com', events: [] }, 'events');
    await bad({ url: 'https://example.com', events: ['api_key.nope'] }, 'events');
    await bad({ events: EVENTS }, 'url');
    expectProblem(await call(app, '/api/webhooks/abc/deliveries', { token: alice }), 400, 'invalid_id');
    expectProblem(await call(app, '/api/webhooks/1/deliveries?after=x', { token: alice }), 400, 'invalid_cursor');
    expectProblem(await call(app, '/api/webhooks/1/deliveries?limit=0', { token: alice }), 422, 'validation_failed');
  });

  it('queues the webhook in the same transaction as the change: a rolled-back change sends nothing', async () => {
    const { receiver: r, url } = await receiver();
    const hook = await addWebhook(bob, url, ['api_key.created']);
    r.secret = hook.secret;
    const before = (await app.sql<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1', [hook.id]))[0]
      .n;
    // A duplicate name fails inside the create transaction, after nothing was inserted.
    await createKey(app, bob, { name: 'once-only' });
    const dup = await call(app, '/api/keys', { method: 'POST', token: bob, body: { name: 'once-only' } });
    expectProblem(dup, 409, 'duplicate_name');
    await r.waitFor((m) => m.length >= 1);
    await app.running.app.get(WebhookWorker).poll();
    const after = (await app.sql<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1', [hook.id]))[0]
      .n;
    expect(after - before).toBe(1);
    expect(r.messages).toHaveLength(1);
  });
});

describe('webhook targets (no private networks unless allowed)', () => {
  it('accepts only public unicast addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fe80::1',
      'fc00::1',
      '0.0.0.0',
      '::ffff:127.0.0.1',
      '100.64.0.1',
    ]) {
      expect([a, isPublicAddress(a)]).toEqual([a, false]);
    }
    for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:8.8.8.8']) expect(isPublicAddress(a)).toBe(true);
  });

  it('refuses private targets and plain http in production, allows them in development', () => {
    expect(urlProblem('http://127.0.0.1:9/x', false)).toMatch(/https/);
    expect(urlProblem('https://127.0.0.1/x', false)).toMatch(/private/);
    expect(urlProblem('https://[::1]/x', false)).toMatch(/private/);
    expect(urlProblem('https://metadata.internal/x', false)).toMatch(/public host/);
    expect(urlProblem('https://hooks.example.com/x', false)).toBeUndefined();
    expect(urlProblem('http://127.0.0.1:9/x', true)).toBeUndefined();
  });

  it('checks the addresses DNS returns, at connection time', async () => {
    const lookup = publicOnlyLookup(false);
    const error = await new Promise<Error | null>((resolve) => lookup('localhost', {}, (e) => resolve(e)));
    expect(error).toBeInstanceOf(TargetRefused);
    const allowed = await new Promise<unknown>((resolve) => publicOnlyLookup(true)('localhost', {}, (e, address) => resolve(e ?? address)));
    expect(allowed).toMatch(/^(127\.0\.0\.1|::1)$/);
  });

  it('refuses a private receiver when private targets are not allowed', async () => {
    const app = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' });
    try {
      const token = await passwordToken(app, 'alice');
      const res = await call(app, '/api/webhooks', {
        method: 'POST',
        token,
        body: { url: 'https://127.0.0.1:8443/hook', events: ['api_key.created'] },
      });
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.detail).toMatch(/private, loopback or link-local/);
    } finally {
      await app.close();
    }
  });
});
