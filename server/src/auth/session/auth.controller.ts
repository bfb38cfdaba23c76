import { Controller, Get, HttpCode, Logger, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblem } from '../../common/problem';
import { ApiProblemResponse, RETRY_AFTER } from '../../common/problem.dto';
import { AppConfig } from '../../config/app-config';
import { actorOf, Public, RequireScopes } from '../decorators/auth.decorators';
import type { Principal } from '../../credentials/principal';
import { KnownUsersRepository } from '../../database/repositories/key-policy.repository';
import { AuditEventsRepository } from '../../database/repositories/audit-events.repository';
import { DataSource } from 'typeorm';
import { acceptsHtml } from '../../common/accepts-html';
import { CredentialRejected, describeRejection } from '../../credentials/credential-rejected';
import { CompositeAuthGuard } from '../composite-auth.guard';
import { unverifiedClaims } from '../jwt-parts';
import { OidcClientService, type SessionTokens } from './oidc-client.service';
import { signInFailurePage, type SignInFailure } from './sign-in-failure-page';
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
  private readonly logger = new Logger('SignIn');

  constructor(
    private readonly guard: CompositeAuthGuard,
    private readonly audit: AuditEventsRepository,
    private readonly dataSource: DataSource,
    private readonly oidc: OidcClientService,
    private readonly sessions: SessionService,
    private readonly config: AppConfig,
    private readonly knownUsers: KnownUsersRepository,
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
      return this.failSignIn(request, reply, {
        status: 400,
        code: 'login_expired',
        detail: 'The sign-in has expired or was started in another browser; start again.',
      });
    const url = new URL(request.url, this.config.publicUrl);
    let tokens: SessionTokens;
    try {
      tokens = await this.oidc.finishLogin(url, transaction);
    } catch (error) {
      return this.failSignIn(
        request,
        reply,
        { status: 400, code: 'login_failed', detail: `Sign-in failed: ${(error as Error).message}` },
        transaction.returnTo,
      );
    }
    // The token is checked here exactly as every later request will check it: a token the API
    // would refuse must not become a session that sends the console back to sign in forever.
    let principal: Principal;
    try {
      principal = await this.guard.verifySessionToken(tokens.accessToken);
    } catch (error) {
      if (!(error instanceof CredentialRejected)) throw error;
      const { code, detail } = describeRejection(error);
      const claims = unverifiedClaims(tokens.accessToken);
      this.logger.warn(
        `Sign-in refused (${code}): ${detail} The token says iss=${JSON.stringify(claims.iss)} aud=${JSON.stringify(claims.aud)} ` +
          `azp=${JSON.stringify(claims.azp ?? claims.client_id)} typ=${JSON.stringify(claims.typ)}; this service expects ` +
          `iss=${JSON.stringify(this.config.oidc.issuer)} and one of ${JSON.stringify(this.config.oidc.audiences)}.`,
      );
      const signOutUrl = await this.oidc.endSessionUrl(tokens.idToken).catch(() => undefined);
      return this.failSignIn(
        request,
        reply,
        {
          status: 401,
          code,
          detail: `The identity provider signed you in, but this service refuses its access token. ${detail}`,
          signOutUrl,
        },
        transaction.returnTo,
      );
    }
    this.sessions.start(reply, tokens);
    await this.audit.record(this.dataSource, {
      type: 'session.signed_in',
      actor: actorOf(request, principal),
      subject: { userId: principal.userId },
    });
    // For the admin console: who a user id is.
    if (principal.username) await this.knownUsers.remember(this.dataSource, principal.userId, principal.username);
    // Checked again here: a Location header that cannot be sent would fail after the session is set.
    reply.header('cache-control', 'no-store').redirect(safeReturnTo(transaction.returnTo), 302);
  }

  /** A browser gets a readable page that never redirects by itself; other clients a problem. */
  private failSignIn(request: FastifyRequest, reply: FastifyReply, failure: Omit<SignInFailure, 'retryUrl'>, returnTo = '/'): void {
    if (!acceptsHtml(request.headers.accept)) throw new ApiProblem({ status: failure.status, code: failure.code, detail: failure.detail });
    const retryUrl = `/api/auth/login?return_to=${encodeURIComponent(safeReturnTo(returnTo))}`;
    reply
      .status(failure.status)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(signInFailurePage({ ...failure, retryUrl }));
  }

  @Post('logout')
  @HttpCode(200)
  @RequireScopes()
  @ApiOperation({
    operationId: 'logout',
    summary: 'End the console session; answers where to send the browser to end it at the identity provider too',
  })
  @ApiOkResponse({ type: LogoutResponse })
  async logout(
    @Req() request: FastifyRequest & { user?: Principal },
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LogoutResponse> {
    await this.sessions.end(request);
    const principal = request.user;
    await this.audit.record(this.dataSource, {
      type: 'session.signed_out',
      actor: actorOf(request, principal),
      subject: { userId: principal?.userId },
    });
    const idToken = this.sessions.state(request)?.i;
    this.sessions.clear(reply);
    const logoutUrl = await this.oidc.logoutUrl(idToken).catch(() => `${this.config.publicUrl}/`);
    return { logout_url: logoutUrl };
  }
}
