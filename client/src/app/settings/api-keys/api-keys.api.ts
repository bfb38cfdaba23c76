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
/** The organisation's key policy in effect (GET /api/policy): what the create dialog offers. */
export type KeyPolicy = Schemas['KeyPolicyResponse'];
/** An RFC 9457 problem as the API sends it (`application/problem+json`). */
export type Problem = Schemas['Problem'];

/**
 * Every scope, with where the console's words for it are (`scopes.<id>.label|description` in the
 * translations): a scope the server adds breaks this build until it has them.
 */
const SCOPE_TEXT: Record<Scope, string> = {
  'keys:read': 'keysRead',
  'keys:write': 'keysWrite',
  'llm:read': 'llmRead',
  'llm:write': 'llmWrite',
  mcp: 'mcp',
  'webhooks:read': 'webhooksRead',
  'webhooks:write': 'webhooksWrite',
  'admin:read': 'adminRead',
  'admin:write': 'adminWrite',
};

/** Opt-in scopes: granted only when asked for explicitly, never in a new key by default. */
export const OPT_IN_SCOPES: ReadonlySet<Scope> = new Set<Scope>(['admin:read', 'admin:write', 'webhooks:read', 'webhooks:write']);
/** Role-bound scopes the create dialog does not offer (admins create such keys through the API). */
const NOT_OFFERED: ReadonlySet<Scope> = new Set<Scope>(['admin:read', 'admin:write']);

/** Every scope with its translation keys (the policy page lists them all). */
export const ALL_SCOPES: ReadonlyArray<{ value: Scope; label: string; description: string }> = (Object.keys(SCOPE_TEXT) as Scope[]).map(
  (value) => ({ value, label: `scopes.${SCOPE_TEXT[value]}.label`, description: `scopes.${SCOPE_TEXT[value]}.description` }),
);

/** The scopes the create dialog offers (not the role-bound ones); the opt-in ones start unticked. */
export const SCOPES = ALL_SCOPES.filter((scope) => !NOT_OFFERED.has(scope.value));

/**
 * The problem inside an HTTP error. Without a problem body it has no `detail`, only the status
 * (0: the server could not be reached): the console says those in its own words (I18n.problem).
 */
export function problemOf(error: unknown): Problem {
  if (error instanceof HttpErrorResponse) {
    const body = error.error as Partial<Problem> | null;
    if (body && typeof body === 'object' && [body.status, body.detail, body.code].some((v) => v !== undefined))
      return { type: 'about:blank', title: error.statusText || 'Error', status: error.status, ...body } as Problem;
    return { type: 'about:blank', status: error.status, title: error.statusText || 'Error' };
  }
  return { type: 'about:blank', status: 0, title: 'Error' };
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

  /** The policy new keys follow (every signed-in user may read it). */
  policy(): Observable<KeyPolicy> {
    return this.http.get<KeyPolicy>('/api/policy');
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
