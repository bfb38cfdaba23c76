import { daysUntil } from '../../shared/time/format-time';
import type { ApiKey } from './api-keys.api';

export interface KeyStatus {
  kind: 'active' | 'expiring' | 'expired' | 'pending' | 'rotated';
  label: string;
}

/** What the table says about a key's validity, at `now`. */
export function keyStatus(key: Pick<ApiKey, 'expires_at' | 'not_before'> & Partial<Pick<ApiKey, 'status'>>, now: number): KeyStatus {
  if (key.status === 'rotated' && key.expires_at) {
    const left = new Date(key.expires_at).getTime() - now;
    if (left <= 0) return { kind: 'expired', label: 'Replaced · stopped working' };
    // Rounded, not ceiled: the page's clock ticks once a minute, and "24 hours" must not read 25.
    const hours = Math.round(left / 3_600_000);
    const when =
      left < 3_600_000 ? 'within the hour' : hours < 48 ? `in ${hours} hour${hours === 1 ? '' : 's'}` : `in ${Math.round(hours / 24)} days`;
    return { kind: 'rotated', label: `Replaced · stops working ${when}` };
  }
  if (key.not_before && new Date(key.not_before).getTime() > now) return { kind: 'pending', label: 'Not valid yet' };
  if (!key.expires_at) return { kind: 'active', label: 'Active · no expiry' };
  const days = daysUntil(key.expires_at, now);
  if (new Date(key.expires_at).getTime() <= now) return { kind: 'expired', label: 'Expired' };
  if (days <= 7) return { kind: 'expiring', label: days <= 1 ? 'Expires within a day' : `Expires in ${days} days` };
  return { kind: 'active', label: `Active · expires in ${days} days` };
}
