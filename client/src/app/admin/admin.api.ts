import { HttpClient, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import type { AuditEvent } from '../activity/activity.api';
import type { ApiKey, Scope } from '../settings/api-keys/api-keys.api';

/** A key as admins see it: any user's, with its owner. */
export interface AdminApiKey extends Omit<ApiKey, 'status'> {
  user_id: string;
  username: string | null;
  status: ApiKey['status'];
}
export interface AdminApiKeyPage {
  items: AdminApiKey[];
  next_cursor: string | null;
  total: number;
}
export type KeyStatusFilter = NonNullable<ApiKey['status']>;
export type AdminKeySort = 'created_at' | 'last_used_at';
export interface AdminKeysQuery {
  user?: string;
  q?: string;
  status?: KeyStatusFilter;
  sort?: AdminKeySort;
  limit?: number;
  after?: string;
}
export interface BulkRevokeResponse {
  revoked: number[];
  not_found: number[];
}
export interface AdminAuditEvent extends AuditEvent {
  subject_user_id: string | null;
}
export interface AdminAuditEventPage {
  items: AdminAuditEvent[];
  next_cursor: string | null;
}
export interface AdminAuditQuery {
  user?: string;
  key_id?: number;
  type?: string;
  from?: string;
  to?: string;
}
export interface KeyPolicyBody {
  max_lifetime_days: number;
  expiry_required: boolean;
  max_keys_per_user: number;
  allowed_scopes: Scope[];
  default_scopes: Scope[];
  expiry_warning_days: number;
}
export interface AdminKeyPolicy extends KeyPolicyBody {
  updated_at: string | null;
  updated_by: string | null;
  source: 'environment' | 'database';
}
export interface AdminOverview {
  keys: { active: number; expiring: number; expired: number; rotated: number };
  created_per_day: Array<{ day: string; count: number }>;
  auth_failures_per_hour: Array<{ hour: string; count: number }>;
  top_keys: Array<{
    key_id: number;
    user_id: string | null;
    username: string | null;
    name: string | null;
    key_hint: string | null;
    requests: number;
    failures: number;
  }>;
}

/** Drops empty filter values, so the query string holds only what was asked. */
function params(query: object): HttpParams {
  let result = new HttpParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') result = result.set(name, String(value));
  }
  return result;
}

/** Every administration call: the server checks the role and scope on each (403 otherwise). */
@Injectable({ providedIn: 'root' })
export class AdminApi {
  private readonly http = inject(HttpClient);

  overview(): Observable<AdminOverview> {
    return this.http.get<AdminOverview>('/api/admin/overview');
  }

  keys(query: AdminKeysQuery): Observable<AdminApiKeyPage> {
    return this.http.get<AdminApiKeyPage>('/api/admin/keys', { params: params(query) });
  }

  revoke(id: number, reason: string): Observable<unknown> {
    return this.http.delete(`/api/admin/keys/${id}`, { body: { reason } });
  }

  revokeMany(ids: number[], reason: string): Observable<BulkRevokeResponse> {
    return this.http.post<BulkRevokeResponse>('/api/admin/keys/revoke', { ids, reason });
  }

  audit(query: AdminAuditQuery & { limit?: number; after?: string }): Observable<AdminAuditEventPage> {
    return this.http.get<AdminAuditEventPage>('/api/admin/audit-events', { params: params(query) });
  }

  /** The same filter as CSV: a plain download link (the session cookie goes along). */
  auditCsvUrl(query: AdminAuditQuery): string {
    const search = params(query).toString();
    return `/api/admin/audit-events.csv${search ? `?${search}` : ''}`;
  }

  policy(): Observable<AdminKeyPolicy> {
    return this.http.get<AdminKeyPolicy>('/api/admin/policy');
  }

  updatePolicy(policy: KeyPolicyBody): Observable<AdminKeyPolicy> {
    return this.http.put<AdminKeyPolicy>('/api/admin/policy', policy);
  }
}
