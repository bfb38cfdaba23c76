import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, type OperationObject, type SecurityRequirementObject, SwaggerModule } from '@nestjs/swagger';
import { OPENAPI_PUBLIC_MARK } from '../auth/decorators/auth.decorators';
import { API_VERSION } from '../health/version.controller';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
/** Methods the guard lets a cookie session use without the X-XSRF-TOKEN header. */
const SAFE_METHODS = new Set(['get', 'head', 'options']);

/**
 * What the global guard (CompositeAuthGuard) accepts on every route that is not public, as
 * alternatives: `Authorization: Bearer`, the session cookie (with the XSRF header for changes),
 * or `X-Session-API-Key`.
 */
function userSecurity(method: string): SecurityRequirementObject[] {
  return [{ bearer: [] }, SAFE_METHODS.has(method) ? { cookie: [] } : { cookie: [], xsrf: [] }, { mcp: [] }];
}

/**
 * Declares each operation's security as the guard applies it. Done once here, over the finished
 * document, rather than by a decorator on every route: deny-by-default is a property of the
 * global guard, not of each route, and Nest's document builder drops an empty `security` list, so
 * no decorator can say "public" (`@Public()` leaves a mark that becomes `security: []`). A route
 * that names its own scheme (the verification API's service token) keeps it.
 */
function declareSecurity(document: OpenAPIObject): void {
  for (const pathItem of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = pathItem[method] as (OperationObject & Record<string, unknown>) | undefined;
      if (!operation) continue;
      const isPublic = operation[OPENAPI_PUBLIC_MARK] === true;
      delete operation[OPENAPI_PUBLIC_MARK];
      if (operation.security?.length) continue;
      operation.security = isPublic ? [] : userSecurity(method);
    }
  }
}

/** The OpenAPI document of this app, as served at /api/docs-json and exported by `npm run openapi:export`. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('API key service')
    .setDescription(
      'Personal API keys for scripts, agents and MCP servers. Authenticate with `Authorization: Bearer` ' +
        '(an API key or a Keycloak access token), the `keycloak_auth` session cookie, or `X-Session-API-Key`. ' +
        'Every error is an RFC 9457 problem (`application/problem+json`, schema `Problem`). ' +
        'Timestamps are RFC 3339 date-times in UTC.',
    )
    .setVersion(API_VERSION)
    .addServer('/', 'This service (the origin this document is served from)')
    .addTag('API keys', 'Create, list and revoke your personal API keys')
    .addTag('LLM key (BYOR)', 'Your "bring your own runtime" LLM key')
    .addTag('Verification (for gateways)', 'Key verification for LLM and API gateways, with the service token')
    .addTag('Console session', "The web console's sign-in and sign-out")
    .addTag('Health', 'Probes and version')
    .addTag(
      'Administration',
      "Every user's keys, the whole audit log, the key policy and an overview: role api-keys-admin (api-keys-auditor: reads) and scope admin:read / admin:write",
    )
    // Schemes are added directly: addBearerAuth() would claim `bearerFormat: JWT`, and these
    // tokens are API keys as often as JWTs.
    .addSecurity('bearer', {
      type: 'http',
      scheme: 'bearer',
      description: 'An API key (`sk-oh-…`) or a Keycloak access token',
    })
    .addSecurity('cookie', {
      type: 'apiKey',
      in: 'cookie',
      name: 'keycloak_auth',
      description: 'The web console session (sign in at /api/auth/login)',
    })
    .addSecurity('xsrf', {
      type: 'apiKey',
      in: 'header',
      name: 'X-XSRF-TOKEN',
      description: "With the session cookie, a change (POST, DELETE) also sends the XSRF-TOKEN cookie's value in this header",
    })
    .addSecurity('mcp', {
      type: 'apiKey',
      in: 'header',
      name: 'X-Session-API-Key',
      description: 'An API key with the `mcp` scope, as MCP clients send it',
    })
    .addSecurity('service', {
      type: 'http',
      scheme: 'bearer',
      description: 'VERIFY_SERVICE_TOKEN, for POST /api/keys/verify only',
    })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // DocumentBuilder leaves an empty contact; package.json says "UNLICENSED": proprietary, with no
  // licence text to link to.
  delete document.info.contact;
  document.info.license = { name: 'Proprietary' };
  declareSecurity(document);
  return document;
}
