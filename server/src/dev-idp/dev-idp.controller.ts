import { Body, Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/decorators/auth.decorators';
import { AppConfig, DevUser } from '../config/app-config';
import { DevIdpService, OAuthError, SignInThrottledError } from './dev-idp.service';
import { loginPage } from './login-page';

/**
 * Keycloak's paths for realm "dev", so clients configured for Keycloak work unchanged. OAuth
 * endpoints answer in OAuth's error format (RFC 6749), not problem+json: that is their contract.
 */
@ApiExcludeController()
@Public()
@Controller('realms/dev')
export class DevIdpController {
  constructor(
    private readonly idp: DevIdpService,
    private readonly config: AppConfig,
  ) {}

  @Get('.well-known/openid-configuration')
  discovery(): Record<string, unknown> {
    return this.idp.discovery();
  }

  @Get('protocol/openid-connect/certs')
  certs(): unknown {
    return this.idp.jwks();
  }

  @Get('protocol/openid-connect/auth')
  authorize(@Query() query: Record<string, unknown>, @Res() reply: FastifyReply): void {
    try {
      const request = this.idp.validateAuthorizationRequest(query);
      this.html(reply, 200, loginPage(this.idp.parkLogin(request), this.formAction()));
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      // Never redirect to an unverified redirect_uri: show the error here instead.
      this.html(reply, 400, `<!doctype html><title>Sign-in error</title><p role="alert">${error.error}: ${error.description}</p>`);
    }
  }

  @Post('protocol/openid-connect/auth')
  async submitLogin(@Body() body: Record<string, unknown>, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const loginId = String(body?.login_id ?? '');
    const username = String(body?.username ?? '');
    if (!this.idp.pendingLogin(loginId)) {
      this.html(
        reply,
        400,
        '<!doctype html><title>Sign-in expired</title><p role="alert">This sign-in form has expired. Go back to the application and sign in again.</p>',
      );
      return;
    }
    let user: DevUser | undefined;
    try {
      user = await this.idp.signIn(username, String(body?.password ?? ''), request.ip);
    } catch (error) {
      if (!(error instanceof SignInThrottledError)) throw error;
      const minutes = Math.ceil(error.retryAfterSeconds! / 60);
      reply.header('retry-after', String(error.retryAfterSeconds));
      this.html(
        reply,
        429,
        loginPage(
          loginId,
          this.formAction(),
          `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
          username,
        ),
      );
      return;
    }
    if (!user) {
      this.html(reply, 401, loginPage(loginId, this.formAction(), 'Invalid username or password.', username));
      return;
    }
    reply.header('cache-control', 'no-store').redirect(this.idp.completeLogin(loginId, user), 302);
  }

  @Post('protocol/openid-connect/token')
  @HttpCode(200)
  async token(@Body() body: Record<string, unknown>, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    try {
      reply.send(await this.idp.token(body ?? {}, request.ip));
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      reply.status(error.status).send({ error: error.error, error_description: error.description });
    }
  }

  @Post('protocol/openid-connect/revoke')
  @HttpCode(200)
  async revoke(@Body() body: Record<string, unknown>, @Res() reply: FastifyReply): Promise<void> {
    reply.header('cache-control', 'no-store');
    try {
      await this.idp.revoke(body ?? {});
      reply.send();
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      reply.status(error.status).send({ error: error.error, error_description: error.description });
    }
  }

  @Get('protocol/openid-connect/logout')
  logout(@Query('post_logout_redirect_uri') target: unknown, @Res() reply: FastifyReply): void {
    const home = `${this.config.publicUrl}/`;
    const safe = typeof target === 'string' && (target === home || target.startsWith(home)) ? target : home;
    reply.redirect(safe, 302);
  }

  private formAction(): string {
    return `${this.idp.issuer}/protocol/openid-connect/auth`;
  }

  private html(reply: FastifyReply, status: number, html: string): void {
    reply
      .status(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
      .send(html);
  }
}
