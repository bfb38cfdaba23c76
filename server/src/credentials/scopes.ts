/**
 * The scopes an API key can hold. A new key gets all but the opt-in ones unless the request names them;
 * a key can never grant a scope it lacks; a browser session holds every scope.
 */
export const SCOPES = {
  'keys:read': 'List API keys and see which key is calling',
  'keys:write': 'Create and delete API keys',
  'llm:read': 'Read the BYOR LLM key',
  'llm:write': 'Rotate the BYOR LLM key',
  mcp: 'Authenticate an MCP client through the X-Session-API-Key header',
  'webhooks:read': 'List webhook endpoints and their deliveries',
  'webhooks:write': 'Add, test and delete webhook endpoints',
} as const;

export type Scope = keyof typeof SCOPES;
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

/**
 * Scopes a new key gets only when the request names them: a key made for a script should not
 * quietly be able to redirect the owner's security notifications.
 */
export const OPT_IN_SCOPES: readonly Scope[] = ['webhooks:read', 'webhooks:write'];

/** The scopes' enum in the OpenAPI document (`components.schemas.Scope`). */
export const SCOPE_SCHEMA = 'Scope';
