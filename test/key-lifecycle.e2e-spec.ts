import { AuditHousekeeping } from '../server/src/audit/audit.controller';
import { AuthFailureAudit } from '../server/src/auth/auth-failure-audit';
import { call, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';
import { WebhookReceiver } from './support/webhook-receiver';

describe('key lifecycle: expiry warnings, late use of replaced keys, the status filter', () => {
  let app: TestApp;
  let alice: string;
  let bob: string;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_POLL_INTERVAL_MS: '100', EXPIRY_WARNING_DAYS: '7' });
    alice = await passwordToken(app, 'alice');
    bob = await passwordToken(app, 'bob');
    const url = await receiver.start();
    const hook = await call(app, '/api/webhooks', {
      method: 'POST',
      token: alice,
      body: { url, events: ['api_key.expiring', 'api_key.expired', 'api_key.rotated_key_used'] },
    });
    receiver.secret = hook.body.secret;
  });
  afterAll(async () => {
    await app.close();
    await receiver.close();
  });

  const events = async (token: string, query: string) =>
    (await call(app, `/api/audit-events?${query}`, { token })).body.items as Array<{ type: string; details: Record<string, unknown> }>;
  const setExpiry = (id: number, sql: string) => app.sql(`UPDATE api_keys SET expires_at = ${sql} WHERE id = $1`, [id]);

  it('announces each key once per threshold (warning, final day, expired), however many runs overlap', async () => {
    const jobs = app.running.app.get(AuditHousekeeping);
    const key = await createKey(app, alice, { name: 'lapsing-soon', expires_at: new Date(Date.now() + 5 * 86_400_000).toISOString() });
    const later = await createKey(app, alice, { name: 'far-off', expires_at: new Date(Date.now() + 60 * 86_400_000).toISOString() });

    await Promise.all([jobs.run(), jobs.run(), jobs.run()]);
    await jobs.run();
    let seen = await events(alice, `key_id=${key.id}&type=api_key.expiring`);
    expect(seen.map((e) => e.details.threshold)).toEqual(['warning']);
    expect(await events(alice, `key_id=${later.id}&type=api_key.expiring`)).toEqual([]);

    await setExpiry(key.id, `now() + interval '10 hours'`);
    await Promise.all([jobs.run(), jobs.run()]);
    seen = await events(alice, `key_id=${key.id}&type=api_key.expiring`);
    expect(seen.map((e) => e.details.threshold)).toEqual(['final', 'warning']);

    await setExpiry(key.id, `now() - interval '1 minute'`);
    await Promise.all([jobs.run(), jobs.run()]);
    await jobs.run();
    expect(await events(alice, `key_id=${key.id}&type=api_key.expired`)).toHaveLength(1);

    // The owner's webhook heard each exactly once.
    await receiver.waitFor((m) => m.filter((x) => x.payload?.data.key?.id === key.id).length >= 3);
    await new Promise((r) => setTimeout(r, 300));
    const about = receiver.messages.filter((m) => m.payload?.data.key?.id === key.id);
    expect(about.map((m) => [m.payload!.type, m.payload!.data.details.threshold ?? null])).toEqual([
      ['api_key.expiring', 'warning'],
      ['api_key.expiring', 'final'],
      ['api_key.expired', null],
    ]);
    expect(about.every((m) => m.verified)).toBe(true);
  });

  it("warns only the owner: another user's expiring key reaches no one else's webhook", async () => {
    const jobs = app.running.app.get(AuditHousekeeping);
    const bobs = await createKey(app, bob, { name: 'bob-lapsing', expires_at: new Date(Date.now() + 2 * 86_400_000).toISOString() });
    await jobs.run();
    expect((await events(bob, `key_id=${bobs.id}&type=api_key.expiring`)).map((e) => e.details.threshold)).toEqual(['warning']);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.messages.some((m) => m.payload?.data.key?.id === bobs.id)).toBe(false);
  });

  it('records a replaced key used after its grace period once per hour, and tells the webhook', async () => {
    const old = await createKey(app, alice, { name: 'still-deployed' });
    const rotated = await call(app, `/api/keys/${old.id}/rotate`, { method: 'POST', token: alice, body: {} });
    expect(rotated.status).toBe(201);
    for (let i = 0; i < 5; i++) expectProblem(await call(app, '/api/keys/current', { token: old.key }), 401, 'rotated_key');
    await Promise.all(Array.from({ length: 5 }, () => call(app, '/api/keys/current', { token: old.key })));

    await receiver.waitFor((m) => m.some((x) => x.payload?.type === 'api_key.rotated_key_used' && x.payload.data.key?.id === old.id));
    const recorded = await events(alice, `key_id=${old.id}&type=api_key.rotated_key_used`);
    expect(recorded).toHaveLength(1);
    expect(recorded[0].details).toMatchObject({ replaced_by: rotated.body.id });

    // Even when this instance forgets it recorded the key (a restart, another instance), the
    // database check keeps it to one an hour; an hour later it is recorded again.
    const audit = app.running.app.get(AuthFailureAudit) as unknown as { rotatedRecorded: { clear(): void } };
    audit.rotatedRecorded.clear();
    await call(app, '/api/keys/current', { token: old.key });
    await new Promise((r) => setTimeout(r, 200));
    expect(await events(alice, `key_id=${old.id}&type=api_key.rotated_key_used`)).toHaveLength(1);
    await app.sql(`UPDATE audit_events SET occurred_at = occurred_at - interval '61 minutes' WHERE subject_key_id = $1`, [old.id]);
    audit.rotatedRecorded.clear();
    await call(app, '/api/keys/current', { token: old.key });
    await new Promise((r) => setTimeout(r, 200));
    expect(await events(alice, `key_id=${old.id}&type=api_key.rotated_key_used`)).toHaveLength(2);
  });

  it('filters the list by status, with and without pages, and refuses an unknown status', async () => {
    const token = bob;
    const fresh = await createKey(app, token, { name: 'filter-active' });
    const soon = await createKey(app, token, { name: 'filter-soon', expires_at: new Date(Date.now() + 3 * 86_400_000).toISOString() });
    const gone = await createKey(app, token, { name: 'filter-gone', expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    await setExpiry(gone.id, `now() - interval '1 hour'`);
    const replaced = await createKey(app, token, { name: 'filter-replaced' });
    await call(app, `/api/keys/${replaced.id}/rotate`, { method: 'POST', token, body: { grace_period_seconds: 3600 } });

    const ids = async (query: string) => {
      const res = await call(app, `/api/keys?${query}`, { token });
      expect([query, res.status, Array.isArray(res.body) ? 'array' : res.text]).toEqual([query, 200, 'array']);
      return (res.body as Array<{ id: number }>).map((k) => k.id);
    };
    expect(await ids('status=expiring')).toEqual(expect.arrayContaining([soon.id]));
    expect(await ids('status=expiring')).not.toContain(fresh.id);
    expect(await ids('status=expired')).toContain(gone.id);
    expect(await ids('status=rotated')).toEqual([replaced.id]);
    const active = await ids('status=active');
    expect(active).toContain(fresh.id);
    expect(active).not.toEqual(expect.arrayContaining([soon.id]));
    expect(active).not.toContain(replaced.id);
    for (const status of ['active', 'expiring', 'expired', 'rotated']) {
      const all = (await call(app, `/api/keys?status=${status}`, { token })).body as Array<{ status: string }>;
      expect(all.every((k) => k.status === status)).toBe(true);
    }

    const first = await call(app, '/api/keys?status=active&limit=1', { token });
    expect(first.body).toHaveLength(1);
    const next = first.headers.get('link')!.match(/<([^>]+)>; rel="next"/)![1];
    expect(next).toContain('status=active');
    const second = await call(app, next, { token });
    expect(second.body.every((k: { status: string; id: number }) => k.status === 'active' && k.id !== first.body[0].id)).toBe(true);

    const bad = await call(app, '/api/keys?status=revoked', { token });
    expectProblem(bad, 422, 'validation_failed');
    expect(bad.body.errors).toEqual([{ field: 'status', message: expect.stringContaining('active, expiring, expired, rotated') }]);
  });
});
