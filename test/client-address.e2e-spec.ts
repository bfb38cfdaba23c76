import { randomBytes } from 'node:crypto';
import { generateKey } from '../server/src/credentials/key-format';
import { ApiKeysRepository } from '../server/src/database/repositories/api-keys.repository';
import { call, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

const randomAddress = () => `198.51.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

describe('Client address behind proxies (e2e)', () => {
  describe('X-Forwarded-For from a peer that is not a trusted proxy', () => {
    let app: TestApp;
    beforeAll(async () => {
      // The test client (127.0.0.1) is not among the trusted proxies.
      app = await startTestApp({ TRUST_PROXY: '10.0.0.0/8', AUTH_FAILURE_LIMIT: '10' });
    });
    afterAll(() => app?.close());

    it('is ignored: spoofed addresses do not escape the failure limit, and the log keeps the real peer', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 36; i++) {
        const spoofed = randomAddress();
        statuses.push((await call(app, '/api/keys', { token: `not-a-key-${i}`, headers: { 'x-forwarded-for': spoofed } })).status);
      }
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
      const addresses = app.logs.lines
        .map((line) => JSON.parse(line))
        .filter((l) => l.msg === 'request completed')
        .map((l) => l.req.remoteAddress);
      expect(new Set(addresses)).toEqual(new Set(['127.0.0.1']));
    });
  });

  describe('X-Forwarded-For from a trusted proxy', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ TRUST_PROXY: 'loopback', AUTH_FAILURE_LIMIT: '5' });
    });
    afterAll(() => app?.close());

    it('names the client, whose failures count on their own', async () => {
      for (let i = 0; i < 5; i++) await call(app, '/api/keys', { token: 'bad', headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect((await call(app, '/api/keys', { token: 'bad', headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(429);
      expect((await call(app, '/api/keys', { token: 'bad', headers: { 'x-forwarded-for': '203.0.113.10' } })).status).toBe(401);
      const logged = app.logs.lines.map((line) => JSON.parse(line)).filter((l) => l.msg === 'request completed');
      expect(logged.at(-1).req.remoteAddress).toBe('203.0.113.10');
    });

    it('counts IPv6 clients by their /64', async () => {
      for (let i = 1; i <= 5; i++) await call(app, '/api/keys', { token: 'bad', headers: { 'x-forwarded-for': `2001:db8:7:7::${i}` } });
      expect((await call(app, '/api/keys', { token: 'bad', headers: { 'x-forwarded-for': '2001:db8:7:7:abcd::99' } })).status).toBe(429);
      expect((await call(app, '/api/keys', { token: 'bad', headers: { 'x-forwarded-for': '2001:db8:7:8::1' } })).status).toBe(401);
    });
  });
});

describe('A burst of made-up keys from one client (e2e)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ TRUST_PROXY: 'loopback', AUTH_FAILURE_LIMIT: '100000', AUTH_MAX_CONCURRENT_VERIFICATIONS: '4' });
  });
  afterAll(() => app?.close());

  it('gets 429 beyond its share of verifications at once, and nobody else waits behind it', async () => {
    const alice = await passwordToken(app, 'alice');
    const victimKey = (await createKey(app, alice)).key;
    const victimFrom = { 'x-forwarded-for': '203.0.113.77' };
    expect((await call(app, '/api/keys/current', { token: victimKey, headers: victimFrom })).status).toBe(200);
    // The database holds every lookup until the burst is in: the verifications really are at
    // once (on a fast database they could otherwise finish one by one, and the limit never bite).
    const repository = app.running.app.get(ApiKeysRepository);
    const lookup = repository.findByHash.bind(repository);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = jest.spyOn(repository, 'findByHash').mockImplementation(async (hash) => {
      await gate;
      return lookup(hash);
    });
    try {
      const attacker = { 'x-forwarded-for': '203.0.113.66' };
      const burst = Array.from({ length: 300 }, () => call(app, '/api/keys/current', { token: generateKey('sk-oh-'), headers: attacker }));
      // Those beyond the client's share are answered while its first four still wait.
      const firstRefusal = await Promise.race(
        burst.map((pending) => pending.then((r) => (r.status === 429 ? r : new Promise<never>(() => {})))),
      );
      expectProblem(firstRefusal, 429, 'rate_limited');
      // Another client's key, verified before, answers at once.
      const victim = await call(app, '/api/keys/current', { token: victimKey, headers: victimFrom });
      expect(victim.status).toBe(200);
      open();
      const statuses = (await Promise.all(burst)).map((r) => r.status);
      expect(statuses.filter((s) => s >= 500)).toEqual([]);
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(4);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(firstRefusal.headers.get('retry-after')).toBe('1');
    } finally {
      open();
      held.mockRestore();
    }
  });
});
