import { HttpClient, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import type { components } from '../api/openapi';

type Schemas = components['schemas'];
export type AuditEvent = Schemas['AuditEventResponse'];
export type AuditEventPage = Schemas['AuditEventPage'];
export type AuditEventType = Schemas['AuditEventType'];
export type KeyUsage = Schemas['KeyUsageResponse'];

/**
 * Every event type, keyed by the generated union (a new type does not compile without an entry):
 * its words are `events.types.<type>` in the translations.
 */
export const EVENT_TYPES: Record<AuditEventType, true> = {
  'api_key.created': true,
  'api_key.revoked': true,
  'api_key.rotated': true,
  'api_key.leaked': true,
  'api_key.expiring': true,
  'api_key.expired': true,
  'api_key.rotated_key_used': true,
  'api_key.used_from_new_address': true,
  'llm_key.provisioned': true,
  'llm_key.refreshed': true,
  'llm_key.leaked': true,
  'session.signed_in': true,
  'session.signed_out': true,
  'auth.failures': true,
  'policy.updated': true,
  'webhook.created': true,
  'webhook.deleted': true,
  'webhook.disabled': true,
};

/** How an actor authenticated: `events.actors.<type>` in the translations. */
export const AUTH_TYPES = ['api_key', 'mcp', 'jwt', 'cookie'];

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
