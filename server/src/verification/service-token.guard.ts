import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AuthFailureLimiter } from '../auth/auth-failure-limiter';
import { invalidCredential, missingCredential, tooManyFailures } from '../auth/auth-problems';
import { bearerToken } from '../auth/credential';
import { CredentialRejected } from '../credentials/credential-rejected';
import { ApiProblem } from '../common/problem';
import { AppConfig } from '../config/app-config';

/**
 * Guards the verification API: the calling service (an LLM or API gateway) presents its own
 * credential, `Authorization: Bearer <VERIFY_SERVICE_TOKEN>`, compared in constant time. Calls
 * are rate limited per address, and failed service credentials count like any failed login.
 */
@Injectable()
export class ServiceTokenGuard implements CanActivate {
  private readonly expected: Buffer;
  private readonly rate: RateLimiterMemory;

  constructor(
    config: AppConfig,
    private readonly failures: AuthFailureLimiter,
  ) {
    this.expected = createHash('sha256').update(config.verification.serviceToken).digest();
    this.rate = new RateLimiterMemory({ points: config.verification.ratePerMinute, duration: 60 });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const retryAfter = await this.failures.retryAfter(request.ip);
    if (retryAfter > 0) throw tooManyFailures(retryAfter);
    try {
      await this.rate.consume(request.ip);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw new ApiProblem({
        status: 429,
        code: 'rate_limited',
        detail: `Verification rate limit reached; retry in ${seconds} s.`,
        headers: { 'Retry-After': String(seconds) },
      });
    }
    const header = request.headers.authorization;
    if (!header) throw missingCredential();
    const token = bearerToken(header) ?? '';
    // Compare digests: equal length, constant time, whatever was sent.
    if (!timingSafeEqual(createHash('sha256').update(token).digest(), this.expected)) {
      await this.failures.recordFailure(request.ip);
      throw invalidCredential(new CredentialRejected('invalid_service_token'));
    }
    return true;
  }
}
