import { HttpClient, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import type { components } from '../api/openapi';

type Schemas = components['schemas'];
export type AuditEvent = Schemas['AuditEventResponse'];
export type AuditEventPage = Schemas['AuditEventPage'];
export type AuditEventType = Schemas['AuditEventType'];
export type KeyUsage = Schemas['KeyUsageResponse'];

/** Words for each event type; keyed by the generated union, so a new type does not compile without one. */
export const EVENT_LABELS: Record<AuditEventType, string> = {
  'api_key.created': 'API key created',
  'api_key.revoked': 'API key deleted',
  'api_key.rotated': 'API key rotated',
  'api_key.leaked': 'API key revoked after a leak report',
  'api_key.expiring': 'API key expires soon',
  'api_key.expired': 'API key expired',
  'api_key.rotated_key_used': 'Replaced API key still in use',
  'api_key.used_from_new_address': 'API key used from a new address',
  'llm_key.provisioned': 'LLM key issued',
  'llm_key.refreshed': 'LLM key refreshed',
  'session.signed_in': 'Signed in',
  'session.signed_out': 'Signed out',
  'auth.failures': 'Failed authentications',
  'webhook.created': 'Webhook added',
  'webhook.deleted': 'Webhook deleted',
  'webhook.disabled': 'Webhook disabled after failed deliveries',
  'policy.updated': 'Key policy changed',
};

export const AUTH_TYPE_LABELS: Record<string, string> = {
  api_key: 'API key',
  mcp: 'MCP header',
  jwt: 'access token',
  cookie: 'console',
};

export interface EventFilter {
  type?: AuditEventType;
  keyId?: number;
  after?: string;
  limit?: number;
}

/** The audit log and per-key usage, as the console reads them. */
@Injectable({ providedIn: 'root' })
export class ActivityApi {
  private readonly http = inject(HttpClient);

  events(filter: EventFilter = {}): Observable<AuditEventPage> {
    let params = new HttpParams().set('limit', String(filter.limit ?? 25));
    if (filter.type) params = params.set('type', filter.type);
    if (filter.keyId !== undefined) params = params.set('key_id', String(filter.keyId));
    if (filter.after) params = params.set('after', filter.after);
    return this.http.get<AuditEventPage>('/api/audit-events', { params });
  }

  usage(keyId: number, days: 7 | 30): Observable<KeyUsage> {
    return this.http.get<KeyUsage>(`/api/keys/${keyId}/usage`, { params: { days: String(days) } });
  }
}
