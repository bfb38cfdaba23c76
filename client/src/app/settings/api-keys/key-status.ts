import { daysUntil } from '../../shared/time/format-time';
import type { ApiKey } from './api-keys.api';

export interface KeyStatus {
  kind: 'active' | 'expiring' | 'expired' | 'pending';
  label: string;
}

/** What the table says about a key's validity, at `now`. */
export function keyStatus(key: Pick<ApiKey, 'expires_at' | 'not_before'>, now: number): KeyStatus {
  if (key.not_before && new Date(key.not_before).getTime() > now) return { kind: 'pending', label: 'Not valid yet' };
  if (!key.expires_at) return { kind: 'active', label: 'Active · no expiry' };
  const days = daysUntil(key.expires_at, now);
  if (new Date(key.expires_at).getTime() <= now) return { kind: 'expired', label: 'Expired' };
  if (days <= 7) return { kind: 'expiring', label: days <= 1 ? 'Expires within a day' : `Expires in ${days} days` };
  return { kind: 'active', label: `Active · expires in ${days} days` };
}
