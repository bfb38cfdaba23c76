import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { CurrentActor, CurrentPrincipal, RequireScopes } from '../auth/decorators/auth.decorators';
import type { AuditActor } from '../database/repositories/audit-events.repository';
import type { Principal } from '../credentials/principal';
import { ApiProblemResponse, RETRY_AFTER } from '../common/problem.dto';
import { LlmKeysService } from './llm-keys.service';

export class LlmApiKeyResponse {
  @ApiProperty({ example: 'sk-oh-llm-…', description: 'Use it as the LLM API key of your own agent or CLI.' })
  key: string;
}

@ApiTags('LLM key (BYOR)')
@Controller('api/keys/llm')
export class LlmKeysController {
  constructor(private readonly llmKeys: LlmKeysService) {}

  @Get('byor')
  @RequireScopes('llm:read')
  @ApiOperation({
    operationId: 'getLlmKey',
    summary: 'Your "bring your own runtime" LLM key; provisioned on first use, replaced if the gateway no longer accepts it',
  })
  @ApiOkResponse({ type: LlmApiKeyResponse })
  @ApiProblemResponse(502, 'The LLM gateway refused the request.', ['llm_gateway_error'])
  @ApiProblemResponse(503, 'The LLM gateway cannot be reached.', ['llm_gateway_unavailable'], RETRY_AFTER)
  async get(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor): Promise<LlmApiKeyResponse> {
    return { key: await this.llmKeys.get(principal.userId, actor) };
  }

  @Post('byor/refresh')
  @HttpCode(200)
  @RequireScopes('llm:write')
  @ApiOperation({ operationId: 'refreshLlmKey', summary: 'Rotate your LLM key: a new key; the old one stops working at once' })
  @ApiOkResponse({ type: LlmApiKeyResponse })
  @ApiProblemResponse(502, 'The LLM gateway refused the request.', ['llm_gateway_error'])
  @ApiProblemResponse(503, 'The LLM gateway cannot be reached.', ['llm_gateway_unavailable'], RETRY_AFTER)
  async refresh(@CurrentPrincipal() principal: Principal, @CurrentActor() actor: AuditActor): Promise<LlmApiKeyResponse> {
    return { key: await this.llmKeys.refresh(principal.userId, actor) };
  }
}
