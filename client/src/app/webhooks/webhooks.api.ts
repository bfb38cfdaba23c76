import { HttpClient, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import type { components } from '../api/openapi';

type Schemas = components['schemas'];
export type Webhook = Schemas['WebhookResponse'];
export type CreatedWebhook = Schemas['WebhookCreatedResponse'];
export type CreateWebhookRequest = Schemas['CreateWebhookRequest'];
export type WebhookDelivery = Schemas['WebhookDeliveryResponse'];
export type WebhookDeliveryPage = Schemas['WebhookDeliveryPage'];
export type WebhookEvent = Schemas['WebhookEvent'];

/**
 * Every event an endpoint can subscribe to, keyed by the generated union (an event the server
 * adds does not compile without an entry); its words are `events.types.<event>`.
 */
export const WEBHOOK_EVENTS: Record<WebhookEvent, true> = {
  'api_key.created': true,
  'api_key.rotated': true,
  'api_key.revoked': true,
  'api_key.expiring': true,
  'api_key.expired': true,
  'api_key.leaked': true,
  'api_key.rotated_key_used': true,
};

/** Every call the console makes about webhooks. */
@Injectable({ providedIn: 'root' })
export class WebhooksApi {
  private readonly http = inject(HttpClient);

  list(): Observable<Webhook[]> {
    return this.http.get<Webhook[]>('/api/webhooks');
  }

  create(request: CreateWebhookRequest): Observable<CreatedWebhook> {
    return this.http.post<CreatedWebhook>('/api/webhooks', request);
  }

  remove(id: number): Observable<void> {
    return this.http.delete<void>(`/api/webhooks/${id}`);
  }

  enable(id: number): Observable<Webhook> {
    return this.http.post<Webhook>(`/api/webhooks/${id}/enable`, null);
  }

  test(id: number): Observable<WebhookDelivery> {
    return this.http.post<WebhookDelivery>(`/api/webhooks/${id}/test`, null);
  }

  deliveries(id: number, after?: string): Observable<WebhookDeliveryPage> {
    let params = new HttpParams().set('limit', '20');
    if (after) params = params.set('after', after);
    return this.http.get<WebhookDeliveryPage>(`/api/webhooks/${id}/deliveries`, { params });
  }
}
