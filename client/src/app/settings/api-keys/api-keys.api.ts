import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
// The server's contract, type-only (erased from the bundle): a renamed scope or problem code
// breaks this build instead of the console's users.
import type { ProblemCode } from '../../../../../server/src/common/problem-codes';
import type { Scope } from '../../../../../server/src/credentials/scopes';

export type { ProblemCode, Scope };

export const SCOPES: ReadonlyArray<{ value: Scope; label: string; description: string }> = [
  { value: 'keys:read', label: 'Read keys', description: 'List API keys and see which key is calling' },
  { value: 'keys:write', label: 'Manage keys', description: 'Create and delete API keys' },
  { value: 'llm:read', label: 'Read LLM key', description: 'Read the BYOR LLM key' },
  { value: 'llm:write', label: 'Rotate LLM key', description: 'Rotate the BYOR LLM key' },
  { value: 'mcp', label: 'MCP clients', description: 'Authenticate an MCP client through X-Session-API-Key' },
];

export interface ApiKey {
  id: number;
  name: string;
  key_hint: string;
  scopes: Scope[];
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  not_before: string | null;
}

export interface CreatedApiKey extends ApiKey {
  /** The full key: in this response only. */
  key: string;
}

export interface CreateApiKeyRequest {
  name: string;
  expires_at?: string | null;
  scopes?: Scope[];
}

/** An RFC 9457 problem as the API sends it. */
export interface Problem {
  status: number;
  title: string;
  detail?: string;
  code?: ProblemCode;
  errors?: Array<{ field: string; message: string }>;
}

/** The problem inside an HTTP error, or a generic one when the server could not be reached. */
export function problemOf(error: unknown): Problem {
  if (error instanceof HttpErrorResponse) {
    const body = error.error as Partial<Problem> | null;
    if (body && typeof body === 'object' && typeof body.status === 'number') return body as Problem;
    if (error.status === 0)
      return { status: 0, title: 'Offline', detail: 'The server could not be reached. Check your connection and try again.' };
    return { status: error.status, title: error.statusText || 'Error', detail: `The server answered ${error.status}.` };
  }
  return { status: 0, title: 'Error', detail: 'Something went wrong.' };
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

  remove(id: number): Observable<{ message: string }> {
    return this.http.delete<{ message: string }>(`/api/keys/${id}`);
  }

  /** The BYOR LLM key (provisioned by the server on first use). */
  llmKey(): Observable<{ key: string }> {
    return this.http.get<{ key: string }>('/api/keys/llm/byor');
  }

  refreshLlmKey(): Observable<{ key: string }> {
    return this.http.post<{ key: string }>('/api/keys/llm/byor/refresh', null);
  }
}
