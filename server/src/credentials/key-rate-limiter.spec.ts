import { KeyRateLimiter } from './key-rate-limiter';
import { unitTestConfig } from '../config/unit-test-config';
import type { DataSource } from 'typeorm';

describe('KeyRateLimiter (one instance)', () => {
  const limiter = () => new KeyRateLimiter(unitTestConfig(), {} as DataSource);
  const minute = (n: number, second = 0) => Date.UTC(2026, 10, 30, 12, n, second);

  it('admits the limit per key and minute, then refuses until the next minute', () => {
    const l = limiter();
    const decisions = Array.from({ length: 4 }, () => l.consume(1, 3, minute(0, 10)));
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(decisions[3].resetSeconds).toBe(50);
    expect(l.consume(2, 3, minute(0, 59)).allowed).toBe(true);
    expect(l.consume(1, 3, minute(0, 59)).allowed).toBe(false);
    expect(l.consume(1, 3, minute(1, 0))).toMatchObject({ allowed: true, remaining: 2, resetSeconds: 60 });
  });

  it('applies a lowered limit at once', () => {
    const l = limiter();
    for (let i = 0; i < 5; i++) l.consume(9, 10, minute(3));
    expect(l.consume(9, 5, minute(3)).allowed).toBe(false);
    expect(l.consume(9, 10, minute(3)).allowed).toBe(true);
  });
});
