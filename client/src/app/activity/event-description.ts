import { AUTH_TYPE_LABELS, type AuditEvent, EVENT_LABELS } from './activity.api';

/** One line saying what happened, for the activity list and the key sheet. */
export function describeEvent(event: AuditEvent): string {
  const label = EVENT_LABELS[event.type as keyof typeof EVENT_LABELS] ?? event.type;
  const key = event.key_name ? ` “${event.key_name}”` : '';
  const details = event.details;
  switch (event.type) {
    case 'api_key.created':
      return `${label}${key}${details.scopes?.length ? ` with ${details.scopes.join(', ')}` : ''}`;
    case 'api_key.expired':
      return `${label}${key}`;
    case 'api_key.rotated':
      return `${label}${key}${details.grace_period_seconds ? `; the old key works until ${new Date(details.old_key_expires_at ?? '').toLocaleString()}` : '; the old key stopped at once'}`;
    case 'api_key.leaked':
      return `${label}${key}${details.url ? ` (found at ${details.url})` : ''}`;
    case 'auth.failures':
      return `${details.count ?? 0} failed authentication(s)`;
    case 'llm_key.refreshed':
      return details.reason === 'rejected_by_gateway' ? `${label} (the gateway no longer accepted the old one)` : label;
    default:
      return `${label}${key}`;
  }
}

/** How the actor authenticated, in words ("console", "API key #12"). */
export function describeActor(event: AuditEvent): string {
  if (!event.actor_auth_type) return event.type === 'api_key.expired' ? 'automatic' : '—';
  const how = AUTH_TYPE_LABELS[event.actor_auth_type] ?? event.actor_auth_type;
  return event.actor_key_id ? `${how} #${event.actor_key_id}` : how;
}
