import { Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblem } from '../../common/problem';
import { ApiProblemResponse, RETRY_AFTER } from '../../common/problem.dto';
import { AppConfig } from '../../config/app-config';
import { Public, RequireScopes } from '../decorators/auth.decorators';
import { OidcClientService } from './oidc-client.service';
import { safeReturnTo } from './return-to';
import { SessionService } from './session.service';

export class LogoutResponse {
  @ApiProperty({
    format: 'uri',
    example:
      'http://localhost:3000/realms/dev/protocol/openid-connect/logout?post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A3000%2F&client_id=console',
    description: "Where to send the browser to end the session at the identity provider too (this site's home when it has no such page).",
  })
  logout_url: string;
}

@ApiTags('Console session')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly oidc: OidcClientService,
    private readonly sessions: SessionService,
    private readonly config: AppConfig,
  ) {}

  @Get('login')
  @Public()
  @ApiOperation({
    operationId: 'startLogin',
    summary: 'Start console sign-in (authorization code + PKCE at the identity provider)',
    description: 'For browsers: a redirect, never a body to read.',
  })
  @ApiQuery({
    name: 'return_to',
    required: false,
    schema: { type: 'string', example: '/settings/api-keys' },
    description: 'Path on this site to come back to after sign-in; anything else means `/`.',
  })
  @ApiFoundResponse({
    description: 'Redirect to the identity provider.',
    headers: { Location: { description: "The identity provider's authorization endpoint.", schema: { type: 'string', format: 'uri' } } },
  })
  @ApiProblemResponse(503, 'The identity provider cannot be reached.', ['identity_provider_unavailable'], RETRY_AFTER)
  async login(@Query('return_to') returnTo: unknown, @Res() reply: FastifyReply): Promise<void> {
    const { url, transaction } = await this.oidc.beginLogin(safeReturnTo(returnTo)).catch((error: unknown) => {
      throw ApiProblem.unavailable(
        `The identity provider cannot be reached (${(error as Error).message}).`,
        'identity_provider_unavailable',
      );
    });
    this.sessions.saveLoginTransaction(reply, transaction);
    reply.header('cache-control', 'no-store').redirect(url, 302);
  }

  @Get('callback')
  @Public()
  @ApiExcludeEndpoint()
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const transaction = this.sessions.takeLoginTransaction(request, reply);
    if (!transaction)
      throw ApiProblem.badRequest(
        'The sign-in has expired or was started in another browser; start again at /api/auth/login.',
        'login_expired',
      );
    const url = new URL(request.url, this.config.publicUrl);
    const tokens = await this.oidc.finishLogin(url, transaction).catch((error: unknown) => {
      throw ApiProblem.badRequest(`Sign-in failed: ${(error as Error).message}`, 'login_failed');
    });
    this.sessions.start(reply, tokens);
    // Checked again here: a Location header that cannot be sent would fail after the session is set.
    reply.header('cache-control', 'no-store').redirect(safeReturnTo(transaction.returnTo), 302);
  }

  @Post('logout')
  @HttpCode(200)
  @RequireScopes()
  @ApiOperation({
    operationId: 'logout',
    summary: 'End the console session; answers where to send the browser to end it at the identity provider too',
  })
  @ApiOkResponse({ type: LogoutResponse })
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<LogoutResponse> {
    await this.sessions.end(request);
    const idToken = this.sessions.state(request)?.i;
    this.sessions.clear(reply);
    const logoutUrl = await this.oidc.logoutUrl(idToken).catch(() => `${this.config.publicUrl}/`);
    return { logout_url: logoutUrl };
  }
}
