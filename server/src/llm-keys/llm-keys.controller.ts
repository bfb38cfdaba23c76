import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBadGatewayResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopes } from '../auth/decorators/auth.decorators';
import type { Principal } from '../credentials/principal';
import { ProblemResponse } from '../common/problem.dto';
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
    summary: 'Your "bring your own runtime" LLM key; provisioned on first use, replaced if the gateway no longer accepts it',
  })
  @ApiOkResponse({ type: LlmApiKeyResponse })
  @ApiBadGatewayResponse({ description: 'The LLM gateway refused the request.', type: ProblemResponse })
  @ApiServiceUnavailableResponse({ description: 'The LLM gateway cannot be reached.', type: ProblemResponse })
  async get(@CurrentPrincipal() principal: Principal): Promise<LlmApiKeyResponse> {
    return { key: await this.llmKeys.get(principal.userId) };
  }

  @Post('byor/refresh')
  @HttpCode(200)
  @RequireScopes('llm:write')
  @ApiOperation({ summary: 'Rotate your LLM key: a new key; the old one stops working at once' })
  @ApiOkResponse({ type: LlmApiKeyResponse })
  @ApiBadGatewayResponse({ description: 'The LLM gateway refused the request.', type: ProblemResponse })
  @ApiServiceUnavailableResponse({ description: 'The LLM gateway cannot be reached.', type: ProblemResponse })
  async refresh(@CurrentPrincipal() principal: Principal): Promise<LlmApiKeyResponse> {
    return { key: await this.llmKeys.refresh(principal.userId) };
  }
}
