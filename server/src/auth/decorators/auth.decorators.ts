import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { AuditActor } from '../../database/repositories/audit-events.repository';
import type { Principal } from '../../credentials/principal';
import type { Scope } from '../../credentials/scopes';
import { ApiProblemResponse, RETRY_AFTER, WWW_AUTHENTICATE } from '../../common/problem.dto';
import type { ProblemCode } from '../../common/problem-codes';

export const IS_PUBLIC = 'auth:public';
export const REQUIRED_SCOPES = 'auth:scopes';
/** On admin routes: the access level ('read' or 'write'), whose roles the caller must hold. */
export const REQUIRED_ADMIN_ACCESS = 'auth:admin';

/**
 * Marks a public operation in the generated OpenAPI document. `openapi-document.ts` turns it
 * into `security: []` and removes it: Nest's document builder drops an empty security list.
 */
export const OPENAPI_PUBLIC_MARK = 'x-public';

/** Opens a route to anonymous callers. Everything else is closed by the global guard. */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), ApiExtension(OPENAPI_PUBLIC_MARK, true));

/** Every `code` of a 401 from the global guard (see `describeRejection`). */
export const CREDENTIAL_PROBLEM_CODES: readonly ProblemCode[] = [
  'missing_credential',
  'malformed_authorization',
  'malformed_key',
  'unknown_key',
  'expired_key',
  'rotated_key',
  'revoked_key',
  'key_not_yet_valid',
  'malformed_token',
  'invalid_token',
  'invalid_issuer',
  'expired_token',
  'token_not_yet_valid',
  'invalid_audience',
  'wrong_token_type',
  'session_ended',
];

/**
 * Authenticated route needing `scopes`. Combines the guard's metadata with the OpenAPI
 * description of the problems the guard answers with (401/403/429/503). The credentials it
 * accepts are declared once for every such route, in `openapi-document.ts`.
 */
export function RequireScopes(...scopes: Scope[]) {
  return applyDecorators(
    SetMetadata(REQUIRED_SCOPES, scopes),
    ApiProblemResponse(
      401,
      'No credential, or an invalid one (`code` and `WWW-Authenticate` say why).',
      CREDENTIAL_PROBLEM_CODES,
      WWW_AUTHENTICATE,
    ),
    ApiProblemResponse(
      403,
      `The credential lacks a scope this route needs (${scopes.join(', ') || 'none'}; through X-Session-API-Key also mcp) or, ` +
        'for a change with the session cookie, the X-XSRF-TOKEN header.',
      ['insufficient_scope', 'csrf_token_invalid'],
    ),
    ApiProblemResponse(
      429,
      'Too many failed authentications, or too many credentials being verified at once, from this address.',
      ['too_many_failed_authentications', 'rate_limited'],
      RETRY_AFTER,
    ),
    ApiProblemResponse(503, 'The database is unavailable.', ['database_unavailable'], RETRY_AFTER),
  );
}

/**
 * An admin route (`/api/admin/...`): the caller needs an admin role **and** the matching scope
 * (`admin:read` or `admin:write`). A session or access token: the identity provider's role
 * (`api-keys-admin`; `api-keys-auditor` for reads), which also gives it the scope. An API key
 * has no roles: it passes when it holds an admin scope, which it can only have been given by a
 * creator holding that scope, i.e. the role, at the time (see README, "Roles").
 */
export function RequireAdmin(access: 'read' | 'write') {
  const scope: Scope = access === 'read' ? 'admin:read' : 'admin:write';
  const roles = access === 'read' ? 'api-keys-admin or api-keys-auditor' : 'api-keys-admin';
  return applyDecorators(
    SetMetadata(REQUIRED_SCOPES, [scope]),
    SetMetadata(REQUIRED_ADMIN_ACCESS, access),
    ApiProblemResponse(
      401,
      'No credential, or an invalid one (`code` and `WWW-Authenticate` say why).',
      CREDENTIAL_PROBLEM_CODES,
      WWW_AUTHENTICATE,
    ),
    ApiProblemResponse(
      403,
      `The caller lacks the role (${roles}; an API key: any admin scope) — \`admin_role_required\` — or the scope ${scope} ` +
        '— `insufficient_scope` — or, for a change with the session cookie, the X-XSRF-TOKEN header.',
      ['admin_role_required', 'insufficient_scope', 'csrf_token_invalid'],
    ),
    ApiProblemResponse(
      429,
      'Too many failed authentications, or too many credentials being verified at once, from this address.',
      ['too_many_failed_authentications', 'rate_limited'],
      RETRY_AFTER,
    ),
    ApiProblemResponse(503, 'The database is unavailable.', ['database_unavailable'], RETRY_AFTER),
  );
}

export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>();
  // The global guard runs before every non-public handler, so a principal is always there.
  return request.user as Principal;
});

/**
 * Who is acting and from where, for the audit log: the principal plus the request's address,
 * user agent and id (the address as the trusted-proxy rules resolve it).
 */
export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuditActor => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>();
  return actorOf(request, request.user);
});

export function actorOf(request: FastifyRequest, principal: Principal | undefined): AuditActor {
  const agent = request.headers['user-agent'];
  return {
    userId: principal?.userId,
    authType: principal?.authType,
    keyId: principal?.apiKey?.id,
    address: request.ip,
    userAgent: typeof agent === 'string' ? agent : undefined,
    requestId: String(request.id),
  };
}
