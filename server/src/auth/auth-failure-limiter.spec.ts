import type { DataSource } from 'typeorm';
import { unitTestConfig } from '../config/unit-test-config';
import { AuthFailureLimiter } from './auth-failure-limiter';

const config = unitTestConfig({ AUTH_FAILURE_LIMIT: '5', AUTH_FAILURE_WINDOW_SECONDS: '60' });

describe('AuthFailureLimiter (in memory)', () => {
  let limiter: AuthFailureLimiter;
  beforeEach(() => {
    limiter = new AuthFailureLimiter(config, {} as DataSource);
  });
  afterEach(() => limiter.onApplicationShutdown());

  it('blocks a client past the limit, and only that client', async () => {
    for (let i = 0; i < 5; i++) await limiter.recordFailure('203.0.113.7');
    expect(await limiter.retryAfter('203.0.113.7')).toBeGreaterThan(0);
    expect(await limiter.retryAfter('203.0.113.8')).toBe(0);
    expect(limiter.mayBeBlocked('203.0.113.8')).toBe(false);
  });

  it('counts an IPv6 client by its /64: rotating the interface id does not help', async () => {
    for (let i = 0; i < 5; i++) await limiter.recordFailure(`2001:db8:1:2::${(i + 1).toString(16)}`);
    expect(await limiter.retryAfter('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBeGreaterThan(0);
    expect(await limiter.retryAfter('2001:db8:1:3::1')).toBe(0);
  });

  it('forgets clients once their window ends: 100,000 one-off failures leave nothing behind', async () => {
    for (let i = 0; i < 100_000; i++) await limiter.recordFailure(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(limiter.size).toBe(100_000);
    limiter.sweep(Date.now() + 61_000);
    expect(limiter.size).toBe(0);
  });
});
