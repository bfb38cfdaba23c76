import { Injectable, Logger } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../../config/app-config';
import { deriveKey, seal, unseal } from '../../common/sealed';
import { SESSION_COOKIE } from '../credential';
import { unverifiedClaims } from '../jwt-parts';
import { jwtExp } from '../verified-token-cache';
import { EndedSessions } from './ended-sessions.service';
import { LoginTransaction, OidcClientService, SessionTokens } from './oidc-client.service';

export const REFRESH_COOKIE = 'keycloak_refresh';
export const CSRF_COOKIE = 'XSRF-TOKEN';
export const CSRF_HEADER = 'x-xsrf-token';
export const LOGIN_TX_COOKIE = 'auth_tx';
const SESSION_MAX_AGE_S = 12 * 3600;
/** Refresh this long before the access token lapses, so a page never sees it expire. */
const REFRESH_MARGIN_S = 60;

/** A JWT's `sub`, read without verification (the token is verified before the session is used). */
function subjectOf(jwt: string): string | undefined {
  const sub = unverifiedClaims(jwt).sub;
  return typeof sub === 'string' ? sub : undefined;
}

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
  private readonly csrfKey: Buffer;

  constructor(
    private readonly config: AppConfig,
    private readonly oidc: OidcClientService,
    private readonly ended: EndedSessions,
  ) {
    this.sealKey = deriveKey(config.sessionSecret, 'session-cookies');
    this.csrfKey = deriveKey(config.sessionSecret, 'xsrf-token');
  }

  private cookieOptions(httpOnly: boolean, maxAge = SESSION_MAX_AGE_S, path = '/') {
    return { httpOnly, secure: this.config.secureCookies, sameSite: 'lax' as const, path, maxAge };
  }

  /**
   * Starts a session (or renews one, keeping its id): the access token in `keycloak_auth`, the
   * sealed session state (id, refresh and ID tokens), and the XSRF token derived from the id.
   */
  start(reply: FastifyReply, tokens: SessionTokens, sessionId = randomBytes(18).toString('base64url')): void {
    reply.setCookie(SESSION_COOKIE, tokens.accessToken, this.cookieOptions(true));
    const state: SessionState = { s: sessionId, u: subjectOf(tokens.accessToken), r: tokens.refreshToken, i: tokens.idToken };
    reply.setCookie(REFRESH_COOKIE, seal(JSON.stringify(state), this.sealKey), this.cookieOptions(true));
    reply.setCookie(CSRF_COOKIE, this.csrfTokenFor(sessionId), this.cookieOptions(false));
  }

  /**
   * Ends the session for good, not just in this browser: the refresh token is revoked at the
   * provider (RFC 7009, where it publishes a revocation endpoint), and the access token is
   * refused on every instance until it expires. A provider that cannot be reached does not
   * keep anyone signed in: the access token is refused regardless, and the failure logged.
   */
  async end(request: FastifyRequest): Promise<void> {
    const state = this.state(request);
    await this.ended.end(request.cookies[SESSION_COOKIE], state?.s, SESSION_MAX_AGE_S);
    const refreshToken = state?.r;
    if (refreshToken) {
      await this.oidc
        .revoke(refreshToken)
        .catch((error: unknown) => this.logger.warn({ err: error }, 'could not revoke the refresh token at the identity provider'));
    }
  }

  clear(reply: FastifyReply): void {
    for (const name of [SESSION_COOKIE, REFRESH_COOKIE, CSRF_COOKIE]) reply.clearCookie(name, { path: '/' });
  }

  /** The sealed session state: the session's id, and its refresh and ID tokens when issued. */
  state(request: FastifyRequest): SessionState | undefined {
    const raw = request.cookies[REFRESH_COOKIE];
    const json = raw ? unseal(raw, this.sealKey) : undefined;
    if (!json) return undefined;
    const state = JSON.parse(json) as Partial<SessionState>;
    return typeof state.s === 'string' ? (state as SessionState) : undefined;
  }

  /**
   * Renews the session with the refresh token when the access token is about to lapse, and
   * answers the access token to verify: the new one, or the old one when no renewal was needed
   * or it failed (the strategy then refuses it with "expired").
   */
  async refreshIfNeeded(accessToken: string, request: FastifyRequest, reply: FastifyReply): Promise<string> {
    if (secondsLeft(accessToken) > REFRESH_MARGIN_S) return accessToken;
    const stored = this.state(request);
    if (!stored?.r || (await this.ended.isSessionEnded(stored.s))) return accessToken;
    try {
      const tokens = await this.oidc.refresh(stored.r);
      this.start(reply, { ...tokens, refreshToken: tokens.refreshToken ?? stored.r, idToken: tokens.idToken ?? stored.i }, stored.s);
      return tokens.accessToken;
    } catch (error) {
      this.logger.warn({ err: error }, 'session refresh failed');
      return accessToken;
    }
  }

  /** The XSRF token of a session: an HMAC of its id, so only this session's token passes. */
  private csrfTokenFor(sessionId: string): string {
    return createHmac('sha256', this.csrfKey).update(sessionId).digest('base64url');
  }

  /**
   * A cookie-authenticated change must send `X-XSRF-TOKEN` equal to this session's token (the
   * page reads it from the XSRF-TOKEN cookie; another site can neither read nor compute it). A
   * matching cookie/header pair planted from elsewhere does not pass: it is not this session's.
   */
  csrfTokenMatches(request: FastifyRequest, sessionId: string | undefined): boolean {
    const header = request.headers[CSRF_HEADER];
    if (!sessionId || typeof header !== 'string') return false;
    const expected = Buffer.from(this.csrfTokenFor(sessionId));
    const given = Buffer.from(header);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  ensureCsrfCookie(request: FastifyRequest, reply: FastifyReply, sessionId: string | undefined): void {
    if (!sessionId) return;
    const token = this.csrfTokenFor(sessionId);
    if (request.cookies[CSRF_COOKIE] !== token) reply.setCookie(CSRF_COOKIE, token, this.cookieOptions(false));
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
}

/** What the sealed session cookie holds (short keys: it travels with every request). */
export interface SessionState {
  /** The session's id: random, fixed for the session's life, the XSRF token's seed. */
  s: string;
  /** Whose session it is (the access token's `sub`): a state cookie only counts with its own user's token. */
  u?: string;
  /** The refresh token, when the provider issued one. */
  r?: string;
  /** The ID token, for the provider's logout. */
  i?: string;
}
