import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/decorators/auth.decorators';
import { ApiBodyProblemResponses, ApiProblemResponse, RETRY_AFTER, WWW_AUTHENTICATE } from '../common/problem.dto';
import { KeyRateLimiter } from '../credentials/key-rate-limiter';
import { KeyVerifier } from '../credentials/key-verifier.service';
import { ServiceTokenGuard } from './service-token.guard';
import { VerifyKeyRequest, VerifyKeyResponse } from './verification.dto';

/** Unkey-style verification for gateways, over the same cached path as the API's own guard. */
@ApiTags('Verification (for gateways)')
@Controller('api/keys/verify')
export class VerificationController {
  constructor(
    private readonly keys: KeyVerifier,
    private readonly rateLimiter: KeyRateLimiter,
  ) {}

  @Post()
  @HttpCode(200)
  // Not a user route: the service guard below authenticates the calling service instead.
  @Public()
  @UseGuards(ServiceTokenGuard)
  @ApiBearerAuth('service')
  @ApiOperation({
    operationId: 'verifyKey',
    summary: 'Verify an API key or an LLM key (for LLM and API gateways); authenticate with VERIFY_SERVICE_TOKEN',
    description:
      'An unknown, expired, revoked or malformed key is a 200 with `valid: false` and a `code` saying why, not an error. ' +
      'A key with `rate_limit_per_minute` has each verification counted against it (`ratelimit`); past it, `RATE_LIMITED`.',
  })
  @ApiOkResponse({ type: VerifyKeyResponse })
  @ApiBodyProblemResponses()
  @ApiProblemResponse(401, 'Missing or wrong service token.', ['missing_credential', 'invalid_service_token'], WWW_AUTHENTICATE)
  @ApiProblemResponse(422, '`key` is missing, not a string, or longer than 512 characters; or the body has other members.', [
    'validation_failed',
  ])
  @ApiProblemResponse(
    429,
    'Too many verifications from this address, or too many failed service tokens.',
    ['rate_limited', 'too_many_failed_authentications'],
    RETRY_AFTER,
  )
  @ApiProblemResponse(503, 'The database is unavailable.', ['database_unavailable'], RETRY_AFTER)
  async verify(@Body() body: VerifyKeyRequest): Promise<VerifyKeyResponse> {
    const result = await this.keys.verifyAny(body.key.trim());
    if (result.kind === 'llm_key') {
      return {
        valid: true,
        code: 'VALID',
        user_id: result.key.userId,
        key_id: result.key.id,
        kind: 'llm_key',
        scopes: [],
        expires_at: null,
      };
    }
    const found = result.kind === 'api_key' ? result.key : undefined;
    // A gateway's verification counts against the key's limit, like a request the key makes here.
    const decision =
      found && result.code === 'VALID' && found.rateLimitPerMinute
        ? this.rateLimiter.consume(found.id, found.rateLimitPerMinute)
        : undefined;
    const limited = decision !== undefined && !decision.allowed;
    return {
      valid: result.code === 'VALID' && !limited,
      code: limited ? 'RATE_LIMITED' : result.code,
      ...(decision ? { ratelimit: { limit: decision.limit, remaining: decision.remaining, reset: decision.resetSeconds } } : {}),
      user_id: found?.userId ?? null,
      key_id: found?.id ?? null,
      kind: found ? 'api_key' : null,
      scopes: found ? [...found.scopes] : [],
      expires_at: found?.expiresAt ? new Date(found.expiresAt).toISOString() : null,
    };
  }
}
