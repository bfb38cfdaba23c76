import { Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppConfig } from '../config/app-config';

/**
 * Counts refused credentials per client address. Past the limit, requests from that address
 * that carry a credential get 429 until the window ends, before any verification work.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly limiter: RateLimiterMemory;
  /**
   * Addresses with a failure in the current window. Requests from anyone else skip the limiter
   * entirely: the hot path of valid credentials pays one Map lookup, not a promise.
   */
  private readonly failing = new Map<string, number>();

  constructor(private readonly config: AppConfig) {
    this.limiter = new RateLimiterMemory({ points: config.authFailures.limit, duration: config.authFailures.windowSeconds });
  }

  /** Synchronous pre-check: false for any address without a recent failure. */
  mayBeBlocked(address: string): boolean {
    return this.failing.has(address);
  }

  /** Seconds until this address may try again, or 0 when it may try now. */
  async retryAfter(address: string): Promise<number> {
    const until = this.failing.get(address);
    if (until === undefined) return 0;
    if (until < Date.now()) {
      this.failing.delete(address);
      return 0;
    }
    const state = await this.limiter.get(address);
    if (!state || state.consumedPoints < this.config.authFailures.limit) return 0;
    return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  }

  async recordFailure(address: string): Promise<void> {
    const res = await this.limiter.consume(address).catch((rejection: unknown) => {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return rejection;
    });
    this.failing.set(address, Date.now() + res.msBeforeNext);
  }
}
