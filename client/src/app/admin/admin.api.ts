import { HttpClient, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import type { components, operations } from '../api/openapi';

type Schemas = components['schemas'];

/** A key as admins see it: any user's, with its owner. */
export type AdminApiKey = Schemas['AdminApiKey'];
export type AdminApiKeyPage = Schemas['AdminApiKeyPage'];
export type KeyStatusFilter = Schemas['ApiKeyStatus'];
export type AdminKeySort = NonNullable<operations['adminListApiKeys']['parameters']['query']>['sort'] & string;
export type AdminKeysQuery = NonNullable<operations['adminListApiKeys']['parameters']['query']>;
export type BulkRevokeResponse = Schemas['BulkRevokeResponse'];
export type AdminAuditEvent = Schemas['AdminAuditEvent'];
export type AdminAuditEventPage = Schemas['AdminAuditEventPage'];
export type AdminAuditQuery = Omit<NonNullable<operations['adminListAuditEvents']['parameters']['query']>, 'limit' | 'after'>;
export type KeyPolicyBody = Schemas['KeyPolicyBody'];
export type AdminKeyPolicy = Schemas['AdminKeyPolicyResponse'];
export type AdminOverview = Schemas['AdminOverview'];

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

  /** Any user's key usage (admins and auditors). */
  usage(keyId: number, days: 7 | 30): Observable<Schemas['KeyUsageResponse']> {
    return this.http.get<Schemas['KeyUsageResponse']>(`/api/admin/keys/${keyId}/usage`, { params: { days: String(days) } });
  }

  overview(): Observable<AdminOverview> {
    return this.http.get<AdminOverview>('/api/admin/overview');
  }

  keys(query: AdminKeysQuery): Observable<AdminApiKeyPage> {
    return this.http.get<AdminApiKeyPage>('/api/admin/keys', { params: params(query) });
  }

  revoke(id: number, reason: string): Observable<Schemas['AdminRevokeResponse']> {
    return this.http.delete<Schemas['AdminRevokeResponse']>(`/api/admin/keys/${id}`, { body: { reason } });
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
