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

  constructor(private readonly config: AppConfig) {
    this.limiter = new RateLimiterMemory({ points: config.authFailures.limit, duration: config.authFailures.windowSeconds });
  }

  /** Seconds until this address may try again, or 0 when it may try now. */
  async retryAfter(address: string): Promise<number> {
    const state = await this.limiter.get(address);
    if (!state || state.consumedPoints < this.config.authFailures.limit) return 0;
    return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  }

  async recordFailure(address: string): Promise<void> {
    await this.limiter.consume(address).catch((res: unknown) => {
      if (!(res instanceof RateLimiterRes)) throw res;
    });
  }
}
