import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Passport } from 'passport';
import { AppConfig } from '../config/app-config';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { AuthFailure, csrfRejected, insufficientScope, invalidCredential, missingCredential, tooManyFailures } from './auth-problems';
import { IS_PUBLIC, REQUIRED_SCOPES } from './decorators/auth.decorators';
import type { Principal } from './principal';
import type { Scope } from './scopes';
import { KeyVerifier } from '../api-keys/key-verifier.service';
import { SessionService } from './session/session.service';
import { keyPrincipal } from './strategies/api-key-failure';
import { VerifiedTokenCache } from './verified-token-cache';
import { API_KEY_STRATEGY, ApiKeyStrategy } from './strategies/api-key.strategy';
import { COOKIE_STRATEGY, JWT_STRATEGY, KeycloakCookieStrategy, KeycloakJwtStrategy, SESSION_COOKIE } from './strategies/keycloak-jwt.strategy';
import { MCP_HEADER, MCP_STRATEGY, McpHeaderStrategy } from './strategies/mcp-header.strategy';

type Request = FastifyRequest & { user?: Principal };
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** jsonwebtoken / jwks-rsa errors, as passport-jwt hands them over, in words for the caller. */
function jwtFailure(info: unknown): AuthFailure {
  const name = (info as { name?: string })?.name;
  const message = String((info as { message?: string })?.message ?? '');
  if (name === 'TokenExpiredError') return new AuthFailure('expired_token', 'The access token has expired.');
  if (name === 'NotBeforeError') return new AuthFailure('token_not_yet_valid', 'The access token is not valid yet.');
  if (name === 'SigningKeyNotFoundError') return new AuthFailure('invalid_token', 'The access token is signed with a key the identity provider does not publish.');
  if (name === 'JwksError' || name === 'JwksRateLimitError') return new AuthFailure('invalid_token', 'The identity provider\'s keys could not be fetched to verify the token.');
  if (message === 'invalid algorithm') return new AuthFailure('invalid_token', 'The access token must be signed with RS256.');
  if (message.startsWith('jwt issuer invalid')) return new AuthFailure('invalid_token', 'The access token was issued by another issuer.');
  if (message === 'invalid signature') return new AuthFailure('invalid_token', 'The access token signature does not verify.');
  if (message === 'jwt malformed' || message === 'invalid token' || name === 'SyntaxError') return new AuthFailure('malformed_token', 'The bearer token is neither one of our API keys nor a well-formed JWT.');
  return new AuthFailure('invalid_token', 'The access token is invalid.');
}

/**
 * The one global guard (deny by default). It picks exactly one credential, in the seed's order:
 *   1. `Authorization: Bearer` — our API key when it has our prefix, otherwise a Keycloak JWT;
 *   2. the `keycloak_auth` session cookie;
 *   3. `X-Session-API-Key` (MCP clients).
 * An absent credential lets the next one be tried; a present but invalid one ends the request
 * with a 401 saying why. It never falls back from a bad credential to another (a bad Bearer
 * next to a good cookie is still a 401), so a caller always learns what is wrong with what it
 * sent. Failures count against the caller's address; past the limit it gets 429.
 */
@Injectable()
export class CompositeAuthGuard implements CanActivate {
  /**
   * This app's own Passport: the strategies also register on passport's process-wide singleton,
   * where a second app in the same process (tests, the bench) would replace them.
   */
  private readonly passport = new Passport();

  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    private readonly limiter: AuthFailureLimiter,
    private readonly sessions: SessionService,
    private readonly tokens: VerifiedTokenCache,
    private readonly keys: KeyVerifier,
    apiKey: ApiKeyStrategy,
    jwt: KeycloakJwtStrategy,
    cookie: KeycloakCookieStrategy,
    mcp: McpHeaderStrategy,
  ) {
    this.passport.use(API_KEY_STRATEGY, apiKey);
    this.passport.use(JWT_STRATEGY, jwt);
    this.passport.use(COOKIE_STRATEGY, cookie);
    this.passport.use(MCP_STRATEGY, mcp);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const strategy = this.selectStrategy(request);
    if (!strategy) throw missingCredential();

    // Fast path, without a promise: a credential verified recently, from an address in good
    // standing. Everything else (first sight, failures, cookies that may need a refresh and a
    // CSRF check) takes the full path through Passport.
    if (!this.limiter.mayBeBlocked(request.ip)) {
      const known = this.fromCache(strategy, request);
      if (known) return this.admit(known, targets, request);
    }
    return this.verify(context, strategy, targets, request);
  }

  private fromCache(strategy: string, request: Request): Principal | undefined {
    if (strategy === JWT_STRATEGY) return this.tokens.get(BEARER.exec(request.headers.authorization!.trim())![1], 'jwt');
    if (strategy !== API_KEY_STRATEGY && strategy !== MCP_STRATEGY) return undefined;
    const raw = strategy === API_KEY_STRATEGY ? BEARER.exec(request.headers.authorization!.trim())![1] : String(request.headers[MCP_HEADER]).trim();
    const result = this.keys.verifyCached(raw);
    if (!result || result.code !== 'VALID' || !result.key) return undefined;
    return keyPrincipal(result.key, strategy === MCP_STRATEGY ? 'mcp' : 'api_key');
  }

  private admit(principal: Principal, targets: Parameters<Reflector['getAllAndOverride']>[1], request: Request): true {
    const required = this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets) ?? [];
    const needed: Scope[] = principal.authType === 'mcp' ? ['mcp', ...required] : required;
    const missing = needed.filter((s) => !principal.scopes.includes(s));
    if (missing.length > 0) throw insufficientScope(missing);
    request.user = principal;
    return true;
  }

  private async verify(context: ExecutionContext, strategy: string, targets: Parameters<Reflector['getAllAndOverride']>[1], request: Request): Promise<boolean> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const retryAfter = await this.limiter.retryAfter(request.ip);
    if (retryAfter > 0) throw tooManyFailures(retryAfter);

    let principal: Principal;
    try {
      if (strategy === COOKIE_STRATEGY) await this.sessions.refreshIfNeeded(request, reply);
      principal = await this.authenticate(strategy, request, reply);
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      await this.limiter.recordFailure(request.ip);
      if (strategy === COOKIE_STRATEGY) this.sessions.clear(reply);
      throw invalidCredential(error);
    }

    if (strategy === COOKIE_STRATEGY) {
      // Cookies ride along on cross-site requests; changes need the double-submit token.
      if (!SAFE_METHODS.has(request.method) && !this.sessions.csrfTokenMatches(request)) throw csrfRejected();
      this.sessions.ensureCsrfCookie(request, reply);
    }

    return this.admit(principal, targets, request);
  }

  private selectStrategy(request: Request): string | undefined {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const match = BEARER.exec(authorization.trim());
      if (!match) {
        // Present but unusable: say so rather than trying the cookie behind it.
        return 'malformed-authorization';
      }
      return match[1].startsWith(this.config.apiKeys.prefix) ? API_KEY_STRATEGY : JWT_STRATEGY;
    }
    if (request.cookies?.[SESSION_COOKIE]) return COOKIE_STRATEGY;
    if (request.headers[MCP_HEADER] !== undefined) return MCP_STRATEGY;
    return undefined;
  }

  private authenticate(strategy: string, request: Request, reply: FastifyReply): Promise<Principal> {
    if (strategy === 'malformed-authorization') {
      return Promise.reject(new AuthFailure('malformed_authorization', 'The Authorization header must be "Bearer <token>".'));
    }
    const jwt = strategy === JWT_STRATEGY ? BEARER.exec(request.headers.authorization!.trim())![1] : strategy === COOKIE_STRATEGY ? request.cookies[SESSION_COOKIE] : undefined;
    // A session cookie (after any refresh) verified before skips the RSA check.
    if (jwt && strategy === COOKIE_STRATEGY) {
      const cached = this.tokens.get(jwt, 'cookie');
      if (cached) return Promise.resolve(cached);
    }
    return new Promise<Principal>((resolve, reject) => {
      const callback = (err: unknown, user: Principal | false, info: unknown) => {
        if (err) return reject(err);
        if (!user) return reject(strategy === API_KEY_STRATEGY || strategy === MCP_STRATEGY ? new AuthFailure('invalid_key', 'The API key is invalid.') : jwtFailure(info));
        if (jwt) this.tokens.remember(jwt, user);
        resolve(user);
      };
      this.passport.authenticate(strategy, { session: false }, callback)(request, reply, (err: unknown) => reject(err));
    });
  }
}
