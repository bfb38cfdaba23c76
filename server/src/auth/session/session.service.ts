import { Injectable, Logger } from '@nestjs/common';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../../config/app-config';
import { deriveKey, seal, unseal } from '../../common/sealed';
import { SESSION_COOKIE } from '../credential';
import { jwtExp } from '../verified-token-cache';
import { LoginTransaction, OidcClientService, SessionTokens } from './oidc-client.service';

export const REFRESH_COOKIE = 'keycloak_refresh';
export const CSRF_COOKIE = 'XSRF-TOKEN';
export const CSRF_HEADER = 'x-xsrf-token';
export const LOGIN_TX_COOKIE = 'auth_tx';
const SESSION_MAX_AGE_S = 12 * 3600;
/** Refresh this long before the access token lapses, so a page never sees it expire. */
const REFRESH_MARGIN_S = 60;

/** Seconds until a JWT's `exp` (verification follows in the strategy). */
function secondsLeft(jwt: string): number {
  const exp = jwtExp(jwt);
  return exp === undefined ? 0 : exp - Date.now() / 1000;
}

/**
 * The console's browser session: the `keycloak_auth` cookie (the access token, as in the seed),
 * a sealed refresh-token cookie, and Angular's XSRF double-submit cookie. All HttpOnly except
 * the XSRF token, which the page must read; Secure except on localhost; SameSite=Lax.
 */
@Injectable()
export class SessionService {
  private readonly logger = new Logger(SessionService.name);
  private readonly sealKey: Buffer;

  constructor(
    private readonly config: AppConfig,
    private readonly oidc: OidcClientService,
  ) {
    this.sealKey = deriveKey(config.sessionSecret, 'session-cookies');
  }

  private cookieOptions(httpOnly: boolean, maxAge = SESSION_MAX_AGE_S, path = '/') {
    return { httpOnly, secure: this.config.secureCookies, sameSite: 'lax' as const, path, maxAge };
  }

  start(reply: FastifyReply, tokens: SessionTokens): void {
    reply.setCookie(SESSION_COOKIE, tokens.accessToken, this.cookieOptions(true));
    if (tokens.refreshToken) {
      const sealed = seal(JSON.stringify({ r: tokens.refreshToken, i: tokens.idToken }), this.sealKey);
      reply.setCookie(REFRESH_COOKIE, sealed, this.cookieOptions(true));
    }
    reply.setCookie(CSRF_COOKIE, randomBytes(24).toString('base64url'), this.cookieOptions(false));
  }

  clear(reply: FastifyReply): void {
    for (const name of [SESSION_COOKIE, REFRESH_COOKIE, CSRF_COOKIE]) reply.clearCookie(name, { path: '/' });
  }

  idToken(request: FastifyRequest): string | undefined {
    return this.readRefreshCookie(request)?.i;
  }

  /**
   * Renews the session with the refresh token when the access token is about to lapse, and
   * answers the access token to verify: the new one, or the old one when no renewal was needed
   * or it failed (the strategy then refuses it with "expired").
   */
  async refreshIfNeeded(accessToken: string, request: FastifyRequest, reply: FastifyReply): Promise<string> {
    if (secondsLeft(accessToken) > REFRESH_MARGIN_S) return accessToken;
    const stored = this.readRefreshCookie(request);
    if (!stored) return accessToken;
    try {
      const tokens = await this.oidc.refresh(stored.r);
      this.start(reply, { ...tokens, idToken: tokens.idToken ?? stored.i });
      return tokens.accessToken;
    } catch (error) {
      this.logger.warn({ err: error }, 'session refresh failed');
      return accessToken;
    }
  }

  csrfTokenMatches(request: FastifyRequest): boolean {
    const cookie = request.cookies[CSRF_COOKIE];
    const header = request.headers[CSRF_HEADER];
    if (!cookie || typeof header !== 'string') return false;
    const a = Buffer.from(cookie);
    const b = Buffer.from(header);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  ensureCsrfCookie(request: FastifyRequest, reply: FastifyReply): void {
    if (!request.cookies[CSRF_COOKIE]) reply.setCookie(CSRF_COOKIE, randomBytes(24).toString('base64url'), this.cookieOptions(false));
  }

  saveLoginTransaction(reply: FastifyReply, transaction: LoginTransaction): void {
    reply.setCookie(LOGIN_TX_COOKIE, seal(JSON.stringify(transaction), this.sealKey), this.cookieOptions(true, 600, '/api/auth'));
  }

  takeLoginTransaction(request: FastifyRequest, reply: FastifyReply): LoginTransaction | undefined {
    const raw = request.cookies[LOGIN_TX_COOKIE];
    reply.clearCookie(LOGIN_TX_COOKIE, { path: '/api/auth' });
    const json = raw ? unseal(raw, this.sealKey) : undefined;
    return json ? (JSON.parse(json) as LoginTransaction) : undefined;
  }

  private readRefreshCookie(request: FastifyRequest): { r: string; i?: string } | undefined {
    const raw = request.cookies[REFRESH_COOKIE];
    const json = raw ? unseal(raw, this.sealKey) : undefined;
    return json ? (JSON.parse(json) as { r: string; i?: string }) : undefined;
  }
}
