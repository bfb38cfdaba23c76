import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as JwtStrategy, type SecretOrKeyProvider, StrategyOptionsWithRequest } from 'passport-jwt';
import { AppConfig } from '../../config/app-config';
import { CredentialRejected } from '../../credentials/credential-rejected';
import type { AuthType, Principal } from '../../credentials/principal';
import { scopesForRoles } from '../../credentials/scopes';
import type { CredentialRequest } from '../credential';
import { SigningKeys } from './signing-keys';

export const JWT_STRATEGY = 'keycloak-jwt';
export const COOKIE_STRATEGY = 'keycloak-cookie';

export interface KeycloakClaims {
  [claim: string]: unknown;
  exp?: unknown;
  typ?: unknown;
  azp?: unknown;
  client_id?: unknown;
  aud?: unknown;
  email?: unknown;
}

/**
 * A claim by name, or by dotted path into nested objects (`realm_access.roles`). The whole name
 * is tried first: some providers' claim names are URLs with dots in them.
 */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** RFC 9068 §2.1: access tokens in JWT form say so in their header. */
const RFC9068_TYPES = new Set(['at+jwt', 'application/at+jwt']);

/** Checks on a token whose signature, issuer and times hold; the principal it stands for. */
export function principalFromClaims(
  claims: KeycloakClaims,
  headerType: string | undefined,
  config: AppConfig,
  authType: AuthType,
): Principal {
  if (typeof claims.exp !== 'number') throw new CredentialRejected('no_expiry');
  // Keycloak access tokens say typ "Bearer"; refresh and ID tokens must not pass as access tokens.
  if (claims.typ !== undefined && claims.typ !== 'Bearer') throw new CredentialRejected('wrong_token_type', String(claims.typ));
  const typed = claims.typ === 'Bearer' || (headerType !== undefined && RFC9068_TYPES.has(headerType));
  if (!typed && config.oidc.requireAccessTokenType) throw new CredentialRejected('untyped_token');
  const names = config.oidc.claims;
  // Keys are filed under the user id: a short printable string, whatever else the provider sends.
  const userId = claimAt(claims, names.userId);
  if (typeof userId !== 'string' || !/^[^\p{Cc}]{1,255}$/u.test(userId)) throw new CredentialRejected('no_subject');
  const audiences = Array.isArray(claims.aud) ? claims.aud : claims.aud ? [claims.aud] : [];
  const accepted = config.oidc.audiences;
  // The client the token was issued to: Keycloak's `azp`, RFC 9068's `client_id`.
  const client = optionalString(claims.azp) ?? optionalString(claims.client_id);
  if (!audiences.some((a) => accepted.includes(a as string)) && !(client && accepted.includes(client))) {
    throw new CredentialRejected('invalid_audience');
  }
  const claimed = claimAt(claims, names.roles);
  const roles = Array.isArray(claimed) ? claimed.filter((r): r is string => typeof r === 'string') : [];
  // A user's own session or access token acts with every scope but the role-bound ones, which
  // its roles give (admin:read, admin:write); API keys are the narrowed ones.
  return {
    userId,
    authType,
    scopes: scopesForRoles(roles),
    username: optionalString(claimAt(claims, names.username)),
    email: optionalString(claims.email),
    roles,
  };
}

/**
 * Verification shared by the Bearer-JWT and cookie strategies: RS256 only (no `none`, no HMAC
 * key confusion), exact issuer, `exp`/`nbf` with a small leeway, keys from the provider's JWKS.
 * The token is the credential the guard parsed; nothing here reads headers or cookies.
 */
function jwtOptions(config: AppConfig, keys: SigningKeys): StrategyOptionsWithRequest {
  return {
    passReqToCallback: true,
    jwtFromRequest: (req: CredentialRequest) => req.credential.raw,
    secretOrKeyProvider: keys.provider as unknown as SecretOrKeyProvider,
    algorithms: ['RS256'],
    issuer: config.oidc.issuer,
    ignoreExpiration: false,
    jsonWebTokenOptions: { clockTolerance: config.oidc.clockToleranceSeconds },
  };
}

@Injectable()
export class KeycloakJwtStrategy extends PassportStrategy(JwtStrategy, JWT_STRATEGY) {
  constructor(
    private readonly config: AppConfig,
    keys: SigningKeys,
  ) {
    super(jwtOptions(config, keys));
  }

  validate(request: CredentialRequest, claims: KeycloakClaims): Principal {
    return principalFromClaims(claims, request.jwtHeaderType, this.config, 'jwt');
  }
}

@Injectable()
export class KeycloakCookieStrategy extends PassportStrategy(JwtStrategy, COOKIE_STRATEGY) {
  constructor(
    private readonly config: AppConfig,
    keys: SigningKeys,
  ) {
    super(jwtOptions(config, keys));
  }

  validate(request: CredentialRequest, claims: KeycloakClaims): Principal {
    return principalFromClaims(claims, request.jwtHeaderType, this.config, 'cookie');
  }
}
