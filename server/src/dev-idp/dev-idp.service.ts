import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { createHash, createPrivateKey, createPublicKey, KeyObject, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, JWK, jwtVerify, SignJWT } from 'jose';
import { AppConfig, DevUser } from '../config/app-config';
import { SignInThrottle } from './sign-in-throttle';

export const ACCESS_TOKEN_TTL_S = 300; // Keycloak's default
export const REFRESH_TOKEN_TTL_S = 1800; // Keycloak's default SSO idle timeout
const CODE_TTL_MS = 60_000;

export interface DevClient {
  id: string;
  grants: Array<'authorization_code' | 'refresh_token' | 'password'>;
  redirectUris: string[];
}

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  state?: string;
  nonce?: string;
  scope: string;
  codeChallenge: string;
}

interface IssuedCode extends AuthorizationRequest {
  user: DevUser;
  expires: number;
}

export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    /** Seconds for a Retry-After header (throttled sign-ins). */
    readonly retryAfterSeconds?: number,
  ) {
    super(description);
  }
}

/** Too many failed sign-ins from this address or for this user (429, with Retry-After). */
export class SignInThrottledError extends OAuthError {
  constructor(retryAfterSeconds: number) {
    super(
      'slow_down',
      `Too many failed sign-ins from this address or for this user; try again in ${retryAfterSeconds} s.`,
      429,
      retryAfterSeconds,
    );
  }
}

/** Addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The embedded development identity provider: Keycloak-shaped tokens (RS256, `typ`, `azp`,
 * `aud: account`, `realm_access`) signed with a key kept in the data folder. Refresh tokens are
 * signed JWTs too, so sessions survive a restart. Development only; never in production.
 */
@Injectable()
export class DevIdpService implements OnModuleInit {
  readonly issuer: string;
  private privateKey: KeyObject;
  private publicKey: KeyObject;
  private publicJwk: JWK;
  private readonly codes = new Map<string, IssuedCode>();
  private readonly pendingLogins = new Map<string, { request: AuthorizationRequest; expires: number }>();
  readonly clients: Map<string, DevClient>;

  constructor(
    private readonly config: AppConfig,
    private readonly throttle: SignInThrottle,
  ) {
    this.issuer = config.oidc.issuer;
    this.clients = new Map<string, DevClient>([
      ['cli', { id: 'cli', grants: ['password', 'refresh_token'], redirectUris: [] }],
      [
        config.oidc.clientId,
        {
          id: config.oidc.clientId,
          grants: ['authorization_code', 'refresh_token'],
          redirectUris: [`${config.publicUrl}/api/auth/callback`],
        },
      ],
    ]);
  }

  async onModuleInit(): Promise<void> {
    this.privateKey = createPrivateKey(this.config.devIdp.privateKeyPem);
    this.publicKey = createPublicKey(this.privateKey);
    const jwk = await exportJWK(this.publicKey);
    this.publicJwk = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' };
    if (!isLoopbackHost(this.config.host)) {
      const users = this.config.devIdp.users.map((u) => u.username).join(', ');
      new Logger('DevIdp').warn(
        `SECURITY WARNING: the development identity provider is reachable from other machines (HOST=${this.config.host}) ` +
          `and signs in its well-known users (${users}) with well-known passwords. Listen on loopback (HOST=localhost) ` +
          'or configure a real identity provider with KEYCLOAK_URL.',
      );
    }
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  discovery(): Record<string, unknown> {
    const base = `${this.issuer}/protocol/openid-connect`;
    return {
      issuer: this.issuer,
      authorization_endpoint: `${base}/auth`,
      token_endpoint: `${base}/token`,
      jwks_uri: `${base}/certs`,
      end_session_endpoint: `${base}/logout`,
      revocation_endpoint: `${base}/revoke`,
      revocation_endpoint_auth_methods_supported: ['none'],
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'password'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['openid', 'profile', 'email'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  /**
   * A sign-in with a password (the form or the password grant), throttled per client address and
   * per username: throws SignInThrottledError past the limit, before the password is looked at.
   */
  async signIn(username: string, password: string, clientAddress: string): Promise<DevUser | undefined> {
    const wait = await this.throttle.begin(clientAddress, username);
    if (wait > 0) throw new SignInThrottledError(wait);
    const user = this.checkPassword(username, password);
    if (user) await this.throttle.succeeded(clientAddress, username);
    return user;
  }

  checkPassword(username: string, password: string): DevUser | undefined {
    const user = this.config.devIdp.users.find((u) => u.username === username);
    const digest = (s: string) => createHash('sha256').update(s).digest();
    // Compare digests in constant time even though this is a development provider.
    const ok = user !== undefined && timingSafeEqual(digest(user.password), digest(password));
    return ok ? user : undefined;
  }

  validateAuthorizationRequest(query: Record<string, unknown>): AuthorizationRequest {
    const clientId = String(query.client_id ?? '');
    const client = this.clients.get(clientId);
    if (!client || !client.grants.includes('authorization_code'))
      throw new OAuthError('unauthorized_client', 'Unknown client or client not allowed to sign in through the browser.');
    const redirectUri = String(query.redirect_uri ?? '');
    if (!client.redirectUris.includes(redirectUri))
      throw new OAuthError('invalid_request', 'redirect_uri is not registered for this client.');
    if (query.response_type !== 'code') throw new OAuthError('unsupported_response_type', 'Only response_type=code is supported.');
    if (
      query.code_challenge_method !== 'S256' ||
      typeof query.code_challenge !== 'string' ||
      !/^[A-Za-z0-9_-]{43}$/.test(query.code_challenge)
    ) {
      throw new OAuthError('invalid_request', 'PKCE with code_challenge_method=S256 is required.');
    }
    return {
      clientId,
      redirectUri,
      state: typeof query.state === 'string' ? query.state : undefined,
      nonce: typeof query.nonce === 'string' ? query.nonce : undefined,
      scope: typeof query.scope === 'string' ? query.scope : 'openid',
      codeChallenge: query.code_challenge,
    };
  }

  /** Parks a validated authorization request while the user fills in the form. */
  parkLogin(request: AuthorizationRequest): string {
    const id = randomBytes(16).toString('base64url');
    this.sweep();
    this.pendingLogins.set(id, { request, expires: Date.now() + 10 * 60_000 });
    return id;
  }

  pendingLogin(id: string): AuthorizationRequest | undefined {
    const entry = this.pendingLogins.get(id);
    return entry && entry.expires > Date.now() ? entry.request : undefined;
  }

  completeLogin(id: string, user: DevUser): string {
    const request = this.pendingLogin(id);
    if (!request) throw new OAuthError('invalid_request', 'The sign-in form has expired.');
    this.pendingLogins.delete(id);
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, { ...request, user, expires: Date.now() + CODE_TTL_MS });
    const target = new URL(request.redirectUri);
    target.searchParams.set('code', code);
    if (request.state !== undefined) target.searchParams.set('state', request.state);
    target.searchParams.set('iss', this.issuer);
    return target.href;
  }

  async token(body: Record<string, unknown>, clientAddress: string): Promise<Record<string, unknown>> {
    const grant = String(body.grant_type ?? '');
    const client = this.clients.get(String(body.client_id ?? ''));
    if (!client) throw new OAuthError('invalid_client', 'Unknown client_id.', 401);
    if (!client.grants.includes(grant as DevClient['grants'][number])) {
      throw new OAuthError(
        grant ? 'unauthorized_client' : 'unsupported_grant_type',
        `Grant type "${grant}" is not allowed for this client.`,
      );
    }
    if (grant === 'password') {
      const user = await this.signIn(String(body.username ?? ''), String(body.password ?? ''), clientAddress);
      if (!user) throw new OAuthError('invalid_grant', 'Invalid user credentials');
      return this.issue(user, client.id, String(body.scope ?? 'openid profile email'), randomUUID());
    }
    if (grant === 'authorization_code') {
      const code = this.codes.get(String(body.code ?? ''));
      this.codes.delete(String(body.code ?? ''));
      if (!code || code.expires < Date.now() || code.clientId !== client.id) throw new OAuthError('invalid_grant', 'Code not valid');
      if (body.redirect_uri !== code.redirectUri) throw new OAuthError('invalid_grant', 'Incorrect redirect_uri');
      const verifier = String(body.code_verifier ?? '');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (challenge !== code.codeChallenge) throw new OAuthError('invalid_grant', 'PKCE verification failed');
      return this.issue(code.user, client.id, code.scope, randomUUID(), code.nonce);
    }
    // refresh_token
    const claims = await jwtVerify(String(body.refresh_token ?? ''), this.publicKey, { issuer: this.issuer, algorithms: ['RS256'] })
      .then((r) => r.payload)
      .catch(() => undefined);
    if (!claims || claims.typ !== 'Refresh' || claims.azp !== client.id) throw new OAuthError('invalid_grant', 'Invalid refresh token');
    if (typeof claims.sid === 'string' && this.endedSessions.has(claims.sid)) throw new OAuthError('invalid_grant', 'Session not active');
    const user = this.config.devIdp.users.find((u) => u.sub === claims.sub);
    if (!user) throw new OAuthError('invalid_grant', 'User not found');
    return this.issue(user, client.id, String(claims.scope ?? 'openid'), String(claims.sid ?? randomUUID()));
  }

  /**
   * RFC 7009 token revocation, as Keycloak does it: revoking a refresh token ends its session,
   * so no refresh token of that session mints tokens again. Unknown or invalid tokens are not
   * an error (the RFC answers 200 either way).
   */
  async revoke(body: Record<string, unknown>): Promise<void> {
    const client = this.clients.get(String(body.client_id ?? ''));
    if (!client) throw new OAuthError('invalid_client', 'Unknown client_id.', 401);
    const claims = await jwtVerify(String(body.token ?? ''), this.publicKey, { issuer: this.issuer, algorithms: ['RS256'] })
      .then((r) => r.payload)
      .catch(() => undefined);
    if (!claims || claims.azp !== client.id || typeof claims.sid !== 'string') return;
    const now = Date.now();
    for (const [sid, until] of this.endedSessions) if (until < now) this.endedSessions.delete(sid);
    this.endedSessions.set(claims.sid, now + REFRESH_TOKEN_TTL_S * 1000);
  }

  /** Sessions ended by a revocation, until their refresh tokens would have expired anyway. */
  private readonly endedSessions = new Map<string, number>();

  private async issue(user: DevUser, clientId: string, scope: string, sid: string, nonce?: string): Promise<Record<string, unknown>> {
    const sign = (claims: Record<string, unknown>, ttl: number) =>
      new SignJWT({ ...claims, sid })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.publicJwk.kid })
        .setIssuer(this.issuer)
        .setSubject(user.sub)
        .setIssuedAt()
        .setExpirationTime(`${ttl}s`)
        .setJti(randomUUID())
        .sign(this.privateKey);
    const profile = { preferred_username: user.username, email: user.email, email_verified: true, name: user.username };
    const accessToken = await sign(
      {
        typ: 'Bearer',
        azp: clientId,
        aud: 'account',
        scope,
        realm_access: { roles: ['default-roles-dev', 'offline_access', ...user.roles] },
        ...profile,
      },
      ACCESS_TOKEN_TTL_S,
    );
    const refreshToken = await sign({ typ: 'Refresh', azp: clientId, aud: this.issuer, scope }, REFRESH_TOKEN_TTL_S);
    const tokens: Record<string, unknown> = {
      access_token: accessToken,
      expires_in: ACCESS_TOKEN_TTL_S,
      refresh_expires_in: REFRESH_TOKEN_TTL_S,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      'not-before-policy': 0,
      session_state: sid,
      scope,
    };
    if (scope.split(' ').includes('openid')) {
      tokens.id_token = await sign(
        { typ: 'ID', azp: clientId, aud: clientId, auth_time: Math.floor(Date.now() / 1000), ...(nonce ? { nonce } : {}), ...profile },
        ACCESS_TOKEN_TTL_S,
      );
    }
    return tokens;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.pendingLogins) if (entry.expires < now) this.pendingLogins.delete(id);
    for (const [code, entry] of this.codes) if (entry.expires < now) this.codes.delete(code);
  }
}
