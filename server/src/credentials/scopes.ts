/**
 * The scopes a credential can hold. A console session or an identity provider's access token
 * holds every scope that is not role-bound, plus the admin scopes its roles give; an API key
 * holds the scopes it was created with. A new key without `scopes` gets the policy's default
 * scopes (never an opt-in scope); a key can never grant a scope its creator lacks.
 */
export const SCOPES = {
  'keys:read': 'List API keys and see which key is calling',
  'keys:write': 'Create and delete API keys',
  'llm:read': 'Read the BYOR LLM key',
  'llm:write': 'Rotate the BYOR LLM key',
  mcp: 'Authenticate an MCP client through the X-Session-API-Key header',
  'admin:read': "Administration: read every user's keys, the whole audit log, the policy (role api-keys-admin or api-keys-auditor)",
  'admin:write': "Administration: revoke anyone's keys, change the policy (role api-keys-admin)",
} as const;

export type Scope = keyof typeof SCOPES;
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

/** The scopes' enum in the OpenAPI document (`components.schemas.Scope`). */
export const SCOPE_SCHEMA = 'Scope';

/** The identity provider's roles this service knows (read from OIDC_ROLES_CLAIM). */
export const ADMIN_ROLE = 'api-keys-admin';
export const AUDITOR_ROLE = 'api-keys-auditor';

/**
 * Scopes held only through a role: a session or access token holds them only when the user
 * has one of the roles listed; an API key only when it was created with them.
 */
export const ROLE_SCOPES: Partial<Record<Scope, readonly string[]>> = {
  'admin:read': [ADMIN_ROLE, AUDITOR_ROLE],
  'admin:write': [ADMIN_ROLE],
};
export const ADMIN_SCOPES: readonly Scope[] = ['admin:read', 'admin:write'];

/**
 * Opt-in scopes: never in a new key's default set (nor in the policy's default scopes); a key
 * gets one only when its creator asks for it explicitly (and holds it).
 */
export const OPT_IN_SCOPES: readonly Scope[] = [...ADMIN_SCOPES];

/** The scopes a user's own session or access token holds, given their roles. */
export function scopesForRoles(roles: readonly string[]): Scope[] {
  return ALL_SCOPES.filter((scope) => {
    const needs = ROLE_SCOPES[scope];
    return needs === undefined || needs.some((role) => roles.includes(role));
  });
}

/** The roles an admin route of this access level accepts. */
export const ADMIN_ROUTE_ROLES: Record<'read' | 'write', readonly string[]> = {
  read: [ADMIN_ROLE, AUDITOR_ROLE],
  write: [ADMIN_ROLE],
};
