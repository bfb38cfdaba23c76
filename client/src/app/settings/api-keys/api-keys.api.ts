import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
// The server's contract, type-only (erased from the bundle): the types generated from its OpenAPI
// document (`npm run openapi:types`), so a changed field, scope or problem code breaks this build
// instead of the console's users.
import type { components } from '../../api/openapi';

type Schemas = components['schemas'];

export type Scope = Schemas['Scope'];
export type ProblemCode = Schemas['ProblemCode'];
export type ApiKey = Schemas['ApiKeyResponse'];
/** A new key; its `key` is in this response only. */
export type CreatedApiKey = Schemas['ApiKeyCreatedResponse'];
export type CreateApiKeyRequest = Schemas['CreateApiKeyRequest'];
export type LlmKey = Schemas['LlmApiKeyResponse'];
export type DeletedApiKey = Schemas['MessageResponse'];
export type RotatedApiKey = Schemas['ApiKeyRotatedResponse'];
/** An RFC 9457 problem as the API sends it (`application/problem+json`). */
export type Problem = Schemas['Problem'];

/** Every scope, with the console's words for it: a scope the server adds breaks this build until it has them. */
const SCOPE_TEXT: Record<Scope, { label: string; description: string }> = {
  'keys:read': { label: 'Read keys', description: 'List API keys and see which key is calling' },
  'keys:write': { label: 'Manage keys', description: 'Create and delete API keys' },
  'llm:read': { label: 'Read LLM key', description: 'Read the BYOR LLM key' },
  'llm:write': { label: 'Rotate LLM key', description: 'Rotate the BYOR LLM key' },
  mcp: { label: 'MCP clients', description: 'Authenticate an MCP client through X-Session-API-Key' },
  'webhooks:read': { label: 'Read webhooks', description: 'List webhook endpoints and their deliveries' },
  'webhooks:write': { label: 'Manage webhooks', description: 'Add, test and delete webhook endpoints' },
  'admin:read': { label: 'Admin: read', description: "Read every user's keys, the audit log and the policy (admins and auditors)" },
  'admin:write': { label: 'Admin: write', description: "Revoke anyone's keys and change the policy (admins)" },
};

/** Opt-in scopes: granted only when asked for explicitly, never in a new key by default. */
export const OPT_IN_SCOPES: ReadonlySet<Scope> = new Set<Scope>(['admin:read', 'admin:write', 'webhooks:read', 'webhooks:write']);
/** Role-bound scopes the create dialog does not offer (admins create such keys through the API). */
const NOT_OFFERED: ReadonlySet<Scope> = new Set<Scope>(['admin:read', 'admin:write']);

/** The scopes the create dialog offers; `byDefault` ones start ticked. */
export const SCOPES: ReadonlyArray<{ value: Scope; label: string; description: string; byDefault: boolean }> = (
  Object.keys(SCOPE_TEXT) as Scope[]
)
  .filter((value) => !NOT_OFFERED.has(value))
  .map((value) => ({ value, ...SCOPE_TEXT[value], byDefault: !OPT_IN_SCOPES.has(value) }));

/** The problem inside an HTTP error, or a generic one when the server could not be reached. */
export function problemOf(error: unknown): Problem {
  if (error instanceof HttpErrorResponse) {
    const body = error.error as Partial<Problem> | null;
    if (body && typeof body === 'object' && typeof body.status === 'number') return body as Problem;
    if (error.status === 0)
      return {
        type: 'about:blank',
        status: 0,
        title: 'Offline',
        detail: 'The server could not be reached. Check your connection and try again.',
      };
    return {
      type: 'about:blank',
      status: error.status,
      title: error.statusText || 'Error',
      detail: `The server answered ${error.status}.`,
    };
  }
  return { type: 'about:blank', status: 0, title: 'Error', detail: 'Something went wrong.' };
}

/** Every call the console makes about API keys: one typed place. */
@Injectable({ providedIn: 'root' })
export class ApiKeysApi {
  private readonly http = inject(HttpClient);

  list(): Observable<ApiKey[]> {
    return this.http.get<ApiKey[]>('/api/keys');
  }

  create(request: CreateApiKeyRequest): Observable<CreatedApiKey> {
    return this.http.post<CreatedApiKey>('/api/keys', request);
  }

  rotate(id: number, gracePeriodSeconds: number): Observable<RotatedApiKey> {
    return this.http.post<RotatedApiKey>(`/api/keys/${id}/rotate`, { grace_period_seconds: gracePeriodSeconds });
  }

  remove(id: number): Observable<DeletedApiKey> {
    return this.http.delete<DeletedApiKey>(`/api/keys/${id}`);
  }

  /** The BYOR LLM key (provisioned by the server on first use). */
  llmKey(): Observable<LlmKey> {
    return this.http.get<LlmKey>('/api/keys/llm/byor');
  }

  refreshLlmKey(): Observable<LlmKey> {
    return this.http.post<LlmKey>('/api/keys/llm/byor/refresh', null);
  }
}
