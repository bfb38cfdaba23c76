import { Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** Failed sign-ins allowed per client address, and per username, in one window. */
export const SIGN_IN_FAILURE_LIMIT = 10;
export const SIGN_IN_FAILURE_WINDOW_SECONDS = 300;
const MAX_USERNAME_KEY_LENGTH = 256;

/**
 * Throttles password guessing at the embedded development identity provider (its users and
 * passwords are well known): at most SIGN_IN_FAILURE_LIMIT failures per client address and per
 * username in SIGN_IN_FAILURE_WINDOW_SECONDS, for the password grant and the sign-in form alike.
 *
 * Each attempt takes a point from both counters before the password is checked, so concurrent
 * guesses cannot slip past the limit; a correct password gives the address its point back and
 * clears the username's failures. Past the limit every attempt is refused, right passwords too,
 * until the window ends. Entries expire with their window, so the maps stay bounded.
 */
@Injectable()
export class SignInThrottle {
  private readonly limiter = new RateLimiterMemory({
    keyPrefix: 'dev-idp-sign-in',
    points: SIGN_IN_FAILURE_LIMIT,
    duration: SIGN_IN_FAILURE_WINDOW_SECONDS,
  });

  private static keys(address: string, username: string): { address: string; user: string } {
    return { address: `ip:${address}`, user: `user:${username.slice(0, MAX_USERNAME_KEY_LENGTH)}` };
  }

  /**
   * Takes an attempt for this address and username: 0 when the password may be checked, else
   * the seconds to wait (nothing is charged then).
   */
  async begin(address: string, username: string): Promise<number> {
    const keys = SignInThrottle.keys(address, username);
    const results = await Promise.allSettled([this.limiter.consume(keys.address), this.limiter.consume(keys.user)]);
    const refused = results.flatMap((r) => {
      if (r.status === 'fulfilled') return [];
      if (r.reason instanceof RateLimiterRes) return [r.reason];
      throw r.reason;
    });
    if (refused.length === 0) return 0;
    // A refused attempt costs nothing: give back what the other counter took, and what the
    // refused one counted past its limit.
    await Promise.all([this.limiter.reward(keys.address, 1), this.limiter.reward(keys.user, 1)]);
    return Math.max(1, Math.ceil(Math.max(...refused.map((r) => r.msBeforeNext)) / 1000));
  }

  /** The password was right: the address gets its point back, the username starts afresh. */
  async succeeded(address: string, username: string): Promise<void> {
    const keys = SignInThrottle.keys(address, username);
    await Promise.all([this.limiter.reward(keys.address, 1), this.limiter.delete(keys.user)]);
  }
}
