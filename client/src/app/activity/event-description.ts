import type { Translate } from '../i18n/i18n';
import { AUTH_TYPES, type AuditEvent, EVENT_TYPES } from './activity.api';

/** The words for an event type, or the type itself when this console does not know it. */
export function eventLabel(type: string, t: Translate): string {
  return type in EVENT_TYPES ? t(`events.types.${type}`) : type;
}

/** One line saying what happened, for the activity list, the key sheet and the admin audit log. */
export function describeEvent(event: AuditEvent, t: Translate, locale?: string): string {
  const label = eventLabel(event.type, t);
  const key = event.key_name ? t('events.keyName', { name: event.key_name }) : '';
  const details = event.details as AuditEvent['details'] & { reason?: string; by_admin?: boolean };
  switch (event.type) {
    case 'api_key.created':
      return details.scopes?.length
        ? t('events.createdWithScopes', { label, key, scopes: details.scopes.join(', ') })
        : t('events.plain', { label, key });
    case 'api_key.revoked':
      return details.by_admin && details.reason
        ? t('events.revokedByAdmin', { label, key, reason: details.reason })
        : t('events.plain', { label, key });
    case 'api_key.rotated':
      return details.grace_period_seconds
        ? t('events.rotatedGrace', { label, key, time: new Date(details.old_key_expires_at ?? '').toLocaleString(locale) })
        : t('events.rotatedNow', { label, key });
    case 'api_key.leaked':
      return details.url ? t('events.leakedAt', { label, key, url: details.url }) : t('events.plain', { label, key });
    case 'auth.failures':
      return t('events.authFailures', { count: details.count ?? 0 });
    case 'llm_key.leaked':
      return details.url ? t('events.llmLeakedAt', { label, url: details.url }) : t('events.llmLeaked', { label });
    case 'llm_key.refreshed':
      if (details.reason === 'leak') return t('events.llmReplacedAfterLeak', { label });
      return details.reason === 'rejected_by_gateway' ? t('events.llmRejected', { label }) : label;
    default:
      return t('events.plain', { label, key });
  }
}

/** How the actor authenticated, in words ("console", "API key #12"). */
export function describeActor(event: AuditEvent, t: Translate): string {
  if (!event.actor_auth_type) return event.type === 'api_key.expired' ? t('events.actors.automatic') : '—';
  const how = AUTH_TYPES.includes(event.actor_auth_type) ? t(`events.actors.${event.actor_auth_type}`) : event.actor_auth_type;
  return event.actor_key_id ? t('events.actors.withKeyId', { how, id: event.actor_key_id }) : how;
}
