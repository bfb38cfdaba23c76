import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { KeyVerifier } from '../api-keys/key-verifier.service';
import { parseKey } from '../api-keys/api-key-secret';
import { Public } from '../auth/decorators/auth.decorators';
import { ProblemResponse } from '../common/problem.dto';
import { AppConfig } from '../config/app-config';
import { LlmKeyVerifier } from '../llm-keys/llm-key-verifier';
import { ServiceTokenGuard } from './service-token.guard';
import { VerifyKeyRequest, VerifyKeyResponse } from './verification.dto';

const nothing = { user_id: null, key_id: null, kind: null, scopes: [], expires_at: null };

/** Unkey-style verification for gateways, over the same cached path as the API's own guard. */
@ApiTags('Verification (for gateways)')
@Controller('api/keys/verify')
export class VerificationController {
  constructor(
    private readonly apiKeys: KeyVerifier,
    private readonly llmKeys: LlmKeyVerifier,
    private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(200)
  // Not a user route: the service guard below authenticates the calling service instead.
  @Public()
  @UseGuards(ServiceTokenGuard)
  @ApiBearerAuth('service')
  @ApiOperation({ summary: 'Verify an API key or an LLM key (for LLM and API gateways); authenticate with VERIFY_SERVICE_TOKEN' })
  @ApiOkResponse({ type: VerifyKeyResponse })
  @ApiUnauthorizedResponse({ description: 'Missing or wrong service token.', type: ProblemResponse })
  @ApiTooManyRequestsResponse({ description: 'Rate limited.', type: ProblemResponse })
  async verify(@Body() body: VerifyKeyRequest): Promise<VerifyKeyResponse> {
    const key = body.key.trim();
    const { prefix: apiPrefix } = this.config.apiKeys;
    const llmPrefix = this.config.llmKeys.prefix;

    if (key.startsWith(apiPrefix) && !key.startsWith(llmPrefix)) {
      const result = await this.apiKeys.verify(key);
      const found = result.key;
      return {
        valid: result.code === 'VALID',
        code: result.code,
        user_id: found?.userId ?? null,
        key_id: found?.id ?? null,
        kind: found ? 'api_key' : null,
        scopes: found ? [...found.scopes] : [],
        expires_at: found?.expiresAt ? new Date(found.expiresAt).toISOString() : null,
      };
    }
    // Our own LLM keys carry a checksum: refuse typos offline. LiteLLM's keys have no known shape.
    if (key.startsWith(llmPrefix) && !parseKey(key, llmPrefix).ok) return { valid: false, code: 'MALFORMED', ...nothing };
    if (key.length < 8) return { valid: false, code: 'MALFORMED', ...nothing };
    const llm = await this.llmKeys.find(key);
    if (!llm) return { valid: false, code: 'NOT_FOUND', ...nothing };
    return { valid: true, code: 'VALID', user_id: llm.userId, key_id: llm.id, kind: 'llm_key', scopes: [], expires_at: null };
  }
}
