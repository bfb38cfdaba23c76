import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopes } from '../auth/decorators/auth.decorators';
import type { Principal } from '../credentials/principal';
import { IdPipe } from '../common/id.pipe';
import { ApiProblem } from '../common/problem';
import { ProblemResponse } from '../common/problem.dto';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyCreatedResponse, ApiKeyResponse, CreateApiKeyRequest, CurrentCredentialResponse, MessageResponse } from './dto/api-key.dto';

const DEFAULT_PAGE_SIZE = 100;

function invalidPage(field: string, message: string): ApiProblem {
  return ApiProblem.unprocessable(`${field} ${message}`, [{ field, message }]);
}

function pageSize(limit: unknown): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (typeof limit !== 'string' || !/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000) {
    throw invalidPage('limit', 'must be an integer from 1 to 1000');
  }
  return Number(limit);
}

@ApiTags('API keys')
@Controller('api/keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Get()
  @RequireScopes('keys:read')
  @ApiOperation({
    summary: 'List your active API keys, newest first',
    description:
      "The whole list as a plain array, or with `limit` one page of it; the next page's URL is then in the `Link` header " +
      '(`rel="next"`), as GitHub does. The array shape never changes.',
  })
  @ApiOkResponse({
    type: [ApiKeyResponse],
    headers: { Link: { description: '`<…?limit=N&after=…>; rel="next"` when a next page exists', schema: { type: 'string' } } },
  })
  @ApiBadRequestResponse({ description: 'A cursor this API did not issue.', type: ProblemResponse })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 }, description: 'Page size' })
  @ApiQuery({
    name: 'after',
    required: false,
    schema: { type: 'string' },
    description: "The cursor from the previous page's `Link` header",
  })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query('limit') limit: unknown,
    @Query('after') after: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ApiKeyResponse[]> {
    // Other query parameters (cache busters) are ignored, as before pagination existed.
    if (limit === undefined && after === undefined) return this.apiKeys.list(principal.userId);
    const size = pageSize(limit);
    if (after !== undefined && typeof after !== 'string') throw invalidPage('after', 'must be a cursor from a Link header');
    const page = await this.apiKeys.listPage(principal.userId, size, after);
    if (page.next) reply.header('link', `</api/keys?limit=${size}&after=${page.next}>; rel="next"`);
    return page.items;
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
