import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy as JwtStrategy, StrategyOptionsWithoutRequest } from 'passport-jwt';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../../config/app-config';
import { AuthFailure } from '../auth-problems';
import type { AuthType, Principal } from '../principal';
import { ALL_SCOPES } from '../scopes';

export const JWT_STRATEGY = 'keycloak-jwt';
export const COOKIE_STRATEGY = 'keycloak-cookie';
export const SESSION_COOKIE = 'keycloak_auth';

export interface KeycloakClaims {
  sub?: string;
  typ?: string;
  azp?: string;
  aud?: string | string[];
  preferred_username?: string;
  email?: string;
}

/**
 * Verification shared by the Bearer-JWT and cookie strategies: RS256 only (no `none`, no HMAC
 * key confusion), exact issuer, `exp`/`nbf` with a small leeway, keys from the realm's JWKS,
 * cached, and fetched again when a token names an unknown `kid` (rate limited).
 */
function jwtOptions(config: AppConfig, jwtFromRequest: StrategyOptionsWithoutRequest['jwtFromRequest']): StrategyOptionsWithoutRequest {
  return {
    jwtFromRequest,
    secretOrKeyProvider: passportJwtSecret({
      jwksUri: config.oidc.jwksUri,
      cache: true,
      cacheMaxEntries: 10,
      cacheMaxAge: 10 * 60 * 1000,
      rateLimit: true,
      jwksRequestsPerMinute: 10,
      timeout: 5000,
    }),
    algorithms: ['RS256'],
    issuer: config.oidc.issuer,
    ignoreExpiration: false,
    jsonWebTokenOptions: { clockTolerance: config.oidc.clockToleranceSeconds },
  };
}

export function principalFromClaims(claims: KeycloakClaims, config: AppConfig, authType: AuthType): Principal {
  // Keycloak access tokens say typ "Bearer"; refresh and ID tokens must not pass as access tokens.
  if (claims.typ !== undefined && claims.typ !== 'Bearer') {
    throw new AuthFailure('wrong_token_type', `A ${claims.typ} token is not an access token.`);
  }
  if (!claims.sub) throw new AuthFailure('invalid_token', 'The access token has no subject.');
  const audiences = Array.isArray(claims.aud) ? claims.aud : claims.aud ? [claims.aud] : [];
  const accepted = config.oidc.audiences;
  if (!audiences.some((a) => accepted.includes(a)) && !(claims.azp && accepted.includes(claims.azp))) {
    throw new AuthFailure('invalid_audience', 'The access token was not issued for this service (audience/azp not accepted).');
  }
  // A user's own session or access token acts with every scope; API keys are the narrowed ones.
  return { userId: claims.sub, authType, scopes: ALL_SCOPES, username: claims.preferred_username, email: claims.email };
}

@Injectable()
export class KeycloakJwtStrategy extends PassportStrategy(JwtStrategy, JWT_STRATEGY) {
  constructor(private readonly config: AppConfig) {
    super(jwtOptions(config, ExtractJwt.fromAuthHeaderAsBearerToken()));
  }

  validate(claims: KeycloakClaims): Principal {
    return principalFromClaims(claims, this.config, 'jwt');
  }
}

@Injectable()
export class KeycloakCookieStrategy extends PassportStrategy(JwtStrategy, COOKIE_STRATEGY) {
  constructor(private readonly config: AppConfig) {
    super(jwtOptions(config, (req: FastifyRequest) => req.cookies?.[SESSION_COOKIE] ?? null));
  }

  validate(claims: KeycloakClaims): Principal {
    return principalFromClaims(claims, this.config, 'cookie');
  }
}
