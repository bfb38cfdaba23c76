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

  it('forgets past windows on the embedded database too, on its own timer', () => {
    jest.useFakeTimers({ now: minute(5, 30) });
    try {
      const l = limiter();
      l.onModuleInit();
      for (let key = 1; key <= 100; key++) l.consume(key, 10);
      expect(l.trackedKeys).toBe(100);
      jest.advanceTimersByTime(60_000); // a sweep in minute 6: minute 5's windows go
      expect(l.trackedKeys).toBe(0);
      l.consume(1, 10);
      jest.advanceTimersByTime(20_000); // no sweep yet, and minute 6 still counts its request
      expect(l.consume(1, 2)).toMatchObject({ allowed: true, remaining: 0 });
      void l.onApplicationShutdown();
    } finally {
      jest.useRealTimers();
    }
  });
});
