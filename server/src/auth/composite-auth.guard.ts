import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenExpiredError, NotBeforeError } from 'jsonwebtoken';
import { Passport } from 'passport';
import { AppConfig } from '../config/app-config';
import { type AuthMethod, Metrics } from '../metrics/metrics';
import { CredentialRejected } from '../credentials/credential-rejected';
import { keyPrincipal } from '../credentials/key-principal';
import { KeyRateLimiter } from '../credentials/key-rate-limiter';
import { KeyPolicyService } from '../credentials/key-policy.service';
import { KeyVerifier } from '../credentials/key-verifier.service';
import { LastUsedTracker } from '../credentials/last-used.tracker';
import type { Principal } from '../credentials/principal';
import { ADMIN_ROUTE_ROLES, ADMIN_SCOPES, type Scope } from '../credentials/scopes';
import { AuthFailureAudit } from './auth-failure-audit';
import { AuthFailureLimiter } from './auth-failure-limiter';
import {
  adminRoleRequired,
  csrfRejected,
  insufficientScope,
  invalidCredential,
  keyRateLimited,
  missingCredential,
  tooManyFailures,
  tooManyVerifications,
} from './auth-problems';
import { Credential, CredentialRequest, extractCredential } from './credential';
import { IS_PUBLIC, REQUIRED_ADMIN_ACCESS, REQUIRED_SCOPES } from './decorators/auth.decorators';
import { EndedSessions } from './session/ended-sessions.service';
import { allMarks, marksOf, sessionMark } from './session/session-marks';
import { SessionService, type SessionState } from './session/session.service';
import { VerifiedTokenCache } from './verified-token-cache';
import { API_KEY_STRATEGY, ApiKeyStrategy } from './strategies/api-key.strategy';
import { COOKIE_STRATEGY, JWT_STRATEGY, KeycloakCookieStrategy, KeycloakJwtStrategy } from './strategies/keycloak-jwt.strategy';
import { MCP_STRATEGY, McpHeaderStrategy } from './strategies/mcp-header.strategy';

type Request = FastifyRequest & { user?: Principal };
/** What a route asks of its caller, read once from its decorators (not per request). */
interface RouteRules {
  isPublic: boolean;
  admin?: 'read' | 'write';
  /** The route's scopes, and for MCP clients the same plus `mcp`. */
  scopes: readonly Scope[];
  mcpScopes: readonly Scope[];
}
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The `method` label of the authentication metrics, by credential kind. */
const METHOD: Record<Credential['kind'], AuthMethod | 'malformed'> = {
  'bearer-key': 'api_key',
  'bearer-jwt': 'jwt',
  cookie: 'cookie',
  'mcp-header': 'mcp',
  malformed: 'malformed',
};

const STRATEGY: Record<Exclude<Credential['kind'], 'malformed'>, string> = {
  'bearer-key': API_KEY_STRATEGY,
  'bearer-jwt': JWT_STRATEGY,
  cookie: COOKIE_STRATEGY,
  'mcp-header': MCP_STRATEGY,
};

/**
 * What a strategy's failure means, by type: our strategies throw CredentialRejected; passport-jwt
 * hands over jsonwebtoken's typed time errors, and any other JsonWebTokenError once the key
 * provider has checked shape, algorithm, issuer and key id is a signature that does not verify.
 */
function rejectionOf(kind: Credential['kind'], info: unknown): CredentialRejected {
  if (info instanceof CredentialRejected) return info;
  if (info instanceof TokenExpiredError) return new CredentialRejected('expired_token');
  if (info instanceof NotBeforeError) return new CredentialRejected('token_not_yet_valid');
  return new CredentialRejected(kind === 'bearer-key' || kind === 'mcp-header' ? 'unknown_key' : 'invalid_signature');
}

/** The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers) for one key's budget. */
function rateLimitHeaders(decision: { limit: number; remaining: number; resetSeconds: number }): Record<string, string> {
  return {
    'ratelimit-policy': `"per-key";q=${decision.limit};w=60`,
    ratelimit: `"per-key";r=${decision.remaining};t=${decision.resetSeconds}`,
  };
}

/**
 * The role half of an admin route's check (the scope half is the usual one). A session or token
 * carries the identity provider's roles. An API key carries none: an admin scope on it is the
 * role's trace, since only a creator holding that scope (so the role, at creation) could give it.
 */
function hasAdminRole(principal: Principal, access: 'read' | 'write'): boolean {
  if (principal.apiKey) return principal.scopes.some((scope) => ADMIN_SCOPES.includes(scope));
  const roles = principal.roles ?? [];
  return ADMIN_ROUTE_ROLES[access].some((role) => roles.includes(role));
}

/**
 * The one global guard (deny by default). It reads exactly one credential (see
 * `extractCredential`), in the seed's order: `Authorization: Bearer` (our API key or a
 * Keycloak JWT), the `keycloak_auth` session cookie, `X-Session-API-Key` (MCP clients). A
 * present but invalid credential ends the request with a 401 saying why; it never falls back
 * to another credential. Failures count against the caller's address; past the limit, 429.
 */
@Injectable()
export class CompositeAuthGuard implements CanActivate {
  /**
   * This app's own Passport: the strategies also register on passport's process-wide singleton,
   * where a second app in the same process (tests, the bench) would replace them.
   */
  private readonly passport = new Passport();
  /** Per handler: decorators do not change at run time, so the reflector runs once per route. */
  private readonly routeRules = new WeakMap<object, RouteRules>();

  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    private readonly limiter: AuthFailureLimiter,
    private readonly sessions: SessionService,
    private readonly tokens: VerifiedTokenCache,
    private readonly keys: KeyVerifier,
    private readonly endedSessions: EndedSessions,
    private readonly metrics: Metrics,
    private readonly failureAudit: AuthFailureAudit,
    private readonly lastUsed: LastUsedTracker,
    private readonly rateLimiter: KeyRateLimiter,
    private readonly policy: KeyPolicyService,
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

  private rulesOf(context: ExecutionContext): RouteRules {
    const handler = context.getHandler();
    let rules = this.routeRules.get(handler);
    if (!rules) {
      const targets = [handler, context.getClass()];
      const scopes = this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets) ?? [];
      rules = {
        isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
        admin: this.reflector.getAllAndOverride<'read' | 'write' | undefined>(REQUIRED_ADMIN_ACCESS, targets),
        scopes,
        mcpScopes: ['mcp', ...scopes],
      };
      this.routeRules.set(handler, rules);
    }
    return rules;
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const rules = this.rulesOf(context);
    if (rules.isPublic) return true;

    // The HTTP arguments by index: `switchToHttp()` builds a new object on every call.
    const request = context.getArgByIndex<Request>(0);
    const credential = extractCredential(request, this.config.apiKeys.prefix);
    if (!credential) {
      this.metrics.refused('none', 'missing_credential');
      throw missingCredential();
    }

    // Fast path, without a promise: a credential verified recently, from an address in good
    // standing. Everything else (first sight, failures, cookies that may need a refresh and a
    // CSRF check) takes the full path through Passport.
    // Read once: each read asks the socket (and, behind proxies, parses X-Forwarded-For).
    const address = request.ip;
    if (!this.limiter.mayBeBlocked(address)) {
      const known = this.fromCache(credential);
      if (known) {
        this.metrics.authenticated(METHOD[credential.kind] as AuthMethod);
        if (known.apiKey) this.keyUsed(known.apiKey, address, context.getArgByIndex<FastifyReply>(1));
        return this.admit(known, rules, request);
      }
    }
    return this.verify(context, credential, rules, request);
  }

  private fromCache(credential: Credential): Principal | undefined {
    switch (credential.kind) {
      case 'bearer-jwt':
        return this.tokens.get(credential.raw, 'jwt');
      case 'bearer-key':
      case 'mcp-header': {
        const result = this.keys.verifyCached(credential.raw);
        if (!result || result.code !== 'VALID' || !result.key) return undefined;
        return keyPrincipal(result.key, credential.kind === 'mcp-header' ? 'mcp' : 'api_key');
      }
      default:
        return undefined;
    }
  }

  /**
   * Where a key was used from (for the "new address" audit event), and its lifecycle in the
   * answer: a replaced key in its grace period says so (`Deprecation`, RFC 9745; `Sunset`,
   * RFC 8594; a `Link` to the rotation docs), and a key expiring within the warning window
   * carries `Sunset`, so clients and gateways can warn before it breaks. A key with a per-key
   * limit gets its budget in the IETF `RateLimit-Policy` / `RateLimit` headers, and past it 429.
   */
  private keyUsed(key: NonNullable<Principal['apiKey']>, address: string, reply: FastifyReply): void {
    this.lastUsed.seenFrom(key.id, address);
    if (key.rateLimitPerMinute) {
      const decision = this.rateLimiter.consume(key.id, key.rateLimitPerMinute);
      const headers = rateLimitHeaders(decision);
      if (!decision.allowed) {
        this.metrics.refused('api_key', 'rate_limited');
        throw keyRateLimited(decision, headers);
      }
      reply.headers(headers);
    }
    if (key.expiresAt === null) return;
    if (key.rotatedAt) {
      reply.header('deprecation', `@${Math.floor(key.rotatedAt / 1000)}`);
      reply.header('sunset', new Date(key.expiresAt).toUTCString());
      reply.header('link', '</api/docs#/API%20keys/rotateApiKey>; rel="deprecation"; type="text/html"');
    } else if (key.expiresAt - Date.now() <= this.policy.current().expiryWarningDays * 86_400_000) {
      reply.header('sunset', new Date(key.expiresAt).toUTCString());
    }
  }

  private admit(principal: Principal, rules: RouteRules, request: Request): true {
    if (rules.admin !== undefined && !hasAdminRole(principal, rules.admin)) throw adminRoleRequired(ADMIN_ROUTE_ROLES[rules.admin]);
    const needed = principal.authType === 'mcp' ? rules.mcpScopes : rules.scopes;
    const missing = needed.filter((s) => !principal.scopes.includes(s));
    if (missing.length > 0) throw insufficientScope(missing);
    request.user = principal;
    return true;
  }

  private async verify(context: ExecutionContext, credential: Credential, rules: RouteRules, request: Request): Promise<boolean> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const retryAfter = await this.limiter.retryAfter(request.ip);
    if (retryAfter > 0) {
      this.metrics.refused(METHOD[credential.kind], 'too_many_failed_authentications');
      throw tooManyFailures(retryAfter);
    }

    // A credential not in the cache costs a lookup or an RSA check: a client gets a bounded
    // number at once, so a burst of made-up keys cannot queue everyone else behind it.
    if (!this.limiter.beginVerification(request.ip)) throw tooManyVerifications();
    let principal: Principal;
    try {
      if (credential.kind === 'malformed') throw new CredentialRejected('malformed_authorization');
      if (credential.kind === 'cookie')
        credential = { kind: 'cookie', raw: await this.sessions.refreshIfNeeded(credential.raw, request, reply) };
      principal = await this.authenticate(credential);
    } catch (error) {
      if (!(error instanceof CredentialRejected)) throw error;
      await this.limiter.recordFailure(request.ip);
      if (credential.kind === 'cookie') this.sessions.clear(reply);
      const problem = invalidCredential(error);
      this.metrics.refused(METHOD[credential.kind], problem.problem.code ?? 'invalid_credential');
      this.failureAudit.record(request.ip, problem.problem.code ?? 'invalid_credential');
      if (error.rotatedKey) this.failureAudit.rotatedKeyUsed(error.rotatedKey, request.ip);
      throw problem;
    } finally {
      this.limiter.endVerification(request.ip);
    }

    this.metrics.authenticated(METHOD[credential.kind] as AuthMethod);
    if (principal.apiKey) this.keyUsed(principal.apiKey, request.ip, reply);
    if (credential.kind === 'cookie') {
      // Cookies ride along on cross-site requests; changes need this session's XSRF token.
      // A renewal keeps the session's id, so the state read here still names this session. The
      // state counts only with its own user's token: another user's state cookie beside this
      // token (planted by a cookie-injecting neighbour) gives no XSRF token that passes.
      const state = this.sessions.state(request);
      const sessionId = state && state.u === principal.userId ? state.s : undefined;
      if (!SAFE_METHODS.has(request.method) && !this.sessions.csrfTokenMatches(request, sessionId)) throw csrfRejected();
      this.sessions.ensureCsrfCookie(request, reply, sessionId);
    }

    return this.admit(principal, rules, request);
  }

  /**
   * The sign-in callback's check of a freshly issued access token: the very checks a request
   * with it as the session cookie will get (signature, issuer, claims, ended sessions).
   */
  verifySessionToken(accessToken: string): Promise<Principal> {
    return this.authenticate({ kind: 'cookie', raw: accessToken });
  }

  private async authenticate(credential: Exclude<Credential, { kind: 'malformed' }>, session?: SessionState): Promise<Principal> {
    const isJwt = credential.kind === 'bearer-jwt' || credential.kind === 'cookie';
    // A session cookie (after any refresh) verified before skips the RSA check.
    if (credential.kind === 'cookie') {
      const cached = this.tokens.get(credential.raw, 'cookie', session ? sessionMark(session.s).toString('base64') : undefined);
      if (cached) return cached;
    }
    const generation = this.tokens.generation;
    const principal = await this.viaPassport(credential);
    if (isJwt) {
      // A valid JWT of a signed-out session stays refused until it expires: the token itself,
      // any token of its provider session, and (cookies) any token of this service's session.
      const marks = marksOf(credential.raw, session?.s);
      if (await this.endedSessions.isEnded(marks)) throw new CredentialRejected('ended_session');
      this.tokens.remember(credential.raw, principal, generation, allMarks(marks));
    }
    return principal;
  }

  private viaPassport(credential: Exclude<Credential, { kind: 'malformed' }>): Promise<Principal> {
    // The strategies see the parsed credential only (see CredentialRequest).
    const view: CredentialRequest = { credential, headers: { authorization: `Bearer ${credential.raw}` } };
    return new Promise<Principal>((resolve, reject) => {
      const callback = (err: unknown, user: Principal | false, info: unknown) => {
        if (err) return reject(err);
        if (!user) return reject(rejectionOf(credential.kind, info));
        resolve(user);
      };
      this.passport.authenticate(STRATEGY[credential.kind], { session: false }, callback)(view, {}, (err: unknown) => reject(err));
    });
  }
}
