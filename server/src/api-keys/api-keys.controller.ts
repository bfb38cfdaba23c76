import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopes } from '../auth/decorators/auth.decorators';
import type { Principal } from '../credentials/principal';
import { IdPipe } from '../common/id.pipe';
import { ProblemResponse } from '../common/problem.dto';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyCreatedResponse, ApiKeyResponse, CreateApiKeyRequest, CurrentCredentialResponse, MessageResponse } from './dto/api-key.dto';

@ApiTags('API keys')
@Controller('api/keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Get()
  @RequireScopes('keys:read')
  @ApiOperation({ summary: 'List your active API keys, newest first' })
  @ApiOkResponse({ type: [ApiKeyResponse] })
  list(@CurrentPrincipal() principal: Principal): Promise<ApiKeyResponse[]> {
    return this.apiKeys.list(principal.userId);
  }

  @Post()
  @RequireScopes('keys:write')
  @ApiOperation({ summary: 'Create an API key; the response holds the full key, shown this once' })
  @ApiCreatedResponse({ type: ApiKeyCreatedResponse })
  @ApiUnprocessableEntityResponse({ description: 'Invalid name, dates or scopes; each field listed in `errors`.', type: ProblemResponse })
  @ApiConflictResponse({
    description: 'Duplicate name among your active keys, or the per-user key limit is reached.',
    type: ProblemResponse,
  })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateApiKeyRequest): Promise<ApiKeyCreatedResponse> {
    return this.apiKeys.create(principal, body);
  }

  @Get('current')
  @RequireScopes()
  @ApiOperation({ summary: 'Which credential is calling' })
  @ApiOkResponse({ type: CurrentCredentialResponse })
  current(@CurrentPrincipal() principal: Principal): CurrentCredentialResponse {
    return this.apiKeys.current(principal);
  }

  @Delete(':id')
  @HttpCode(200)
  @RequireScopes('keys:write')
  @ApiOperation({ summary: 'Delete (revoke) one of your API keys; it stops working at once' })
  @ApiOkResponse({ type: MessageResponse })
  @ApiBadRequestResponse({ description: 'The id is not a positive integer.', type: ProblemResponse })
  @ApiNotFoundResponse({ description: 'No such active key of yours.', type: ProblemResponse })
  async remove(@CurrentPrincipal() principal: Principal, @Param('id', IdPipe) id: number): Promise<MessageResponse> {
    await this.apiKeys.revoke(principal.userId, id);
    return { message: 'API key deleted successfully' };
  }
}
