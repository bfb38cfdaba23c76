/** What a webhook endpoint can subscribe to: the audit events about a user's keys. */
export const WEBHOOK_EVENTS = [
  'api_key.created',
  'api_key.rotated',
  'api_key.revoked',
  'api_key.expiring',
  'api_key.expired',
  'api_key.leaked',
  'api_key.rotated_key_used',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The type of the message `POST /api/webhooks/{id}/test` sends. */
export const TEST_EVENT = 'webhook.test';
