/**
 * The scopes an API key can hold. A new key gets all of them unless the request narrows them;
 * a key can never grant a scope it lacks; a browser session holds every scope.
 */
export const SCOPES = {
  'keys:read': 'List API keys and see which key is calling',
  'keys:write': 'Create and delete API keys',
  'llm:read': 'Read the BYOR LLM key',
  'llm:write': 'Rotate the BYOR LLM key',
  mcp: 'Authenticate an MCP client through the X-Session-API-Key header',
} as const;

export type Scope = keyof typeof SCOPES;
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

/** The scopes' enum in the OpenAPI document (`components.schemas.Scope`). */
export const SCOPE_SCHEMA = 'Scope';
