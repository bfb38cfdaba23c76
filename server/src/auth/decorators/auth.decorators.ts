import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiForbiddenResponse,
  ApiSecurity,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../credentials/principal';
import type { Scope } from '../../credentials/scopes';
import { ProblemResponse } from '../../common/problem.dto';

export const IS_PUBLIC = 'auth:public';
export const REQUIRED_SCOPES = 'auth:scopes';

/** Opens a route to anonymous callers. Everything else is closed by the global guard. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/**
 * Authenticated route needing `scopes`. Combines the guard's metadata with the OpenAPI
 * description of the three credentials and of the 401/403/429 problems.
 */
export function RequireScopes(...scopes: Scope[]) {
  return applyDecorators(
    SetMetadata(REQUIRED_SCOPES, scopes),
    ApiBearerAuth('bearer'),
    ApiCookieAuth('cookie'),
    ApiSecurity('mcp'),
    ApiUnauthorizedResponse({
      description: 'No credential, or an invalid one (see `code` and `WWW-Authenticate`).',
      type: ProblemResponse,
    }),
    ApiForbiddenResponse({
      description: `The credential lacks a scope (${scopes.join(', ') || 'none needed'}) or, for a cookie session, the anti-CSRF token.`,
      type: ProblemResponse,
    }),
    ApiTooManyRequestsResponse({ description: 'Too many failed authentications from this address.', type: ProblemResponse }),
  );
}

export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>();
  // The global guard runs before every non-public handler, so a principal is always there.
  return request.user as Principal;
});
