import { randomBytes } from 'node:crypto';
import { generateKey } from '../server/src/credentials/key-format';
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
    const attacker = { 'x-forwarded-for': '203.0.113.66' };
    const burst = Array.from({ length: 300 }, () => call(app, '/api/keys/current', { token: generateKey('sk-oh-'), headers: attacker }));
    const victim = await call(app, '/api/keys/current', { token: victimKey, headers: { 'x-forwarded-for': '203.0.113.77' } });
    const responses = await Promise.all(burst);
    const statuses = responses.map((r) => r.status);
    expect(victim.status).toBe(200);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    const refused = responses.find((r) => r.status === 429)!;
    expect(refused).toBeDefined();
    expectProblem(refused, 429, 'rate_limited');
    expect(refused.headers.get('retry-after')).toBe('1');
  });
});
