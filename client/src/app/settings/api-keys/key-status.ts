import type { Translate } from '../../i18n/i18n';
import { daysUntil } from '../../shared/time/format-time';
import type { ApiKey } from './api-keys.api';

export interface KeyStatus {
  kind: 'active' | 'expiring' | 'expired' | 'pending' | 'rotated';
  label: string;
}

/** Picks `key.one` or `key.other` for English-style plurals (Chinese has the same text in both). */
function counted(t: Translate, key: string, count: number): string {
  return t(`${key}.${count === 1 ? 'one' : 'other'}`, { count });
}

/** What the table says about a key's validity, at `now`, in the words `t` gives. */
export function keyStatus(
  key: Pick<ApiKey, 'expires_at' | 'not_before'> & Partial<Pick<ApiKey, 'status'>>,
  now: number,
  t: Translate,
): KeyStatus {
  if (key.status === 'rotated' && key.expires_at) {
    const left = new Date(key.expires_at).getTime() - now;
    if (left <= 0) return { kind: 'expired', label: t('status.replacedStopped') };
    // Rounded, not ceiled: the page's clock ticks once a minute, and "24 hours" must not read 25.
    const hours = Math.round(left / 3_600_000);
    const label =
      left < 3_600_000
        ? t('status.replacedWithinHour')
        : hours < 48
          ? counted(t, 'status.replacedHours', hours)
          : counted(t, 'status.replacedDays', Math.round(hours / 24));
    return { kind: 'rotated', label };
  }
  if (key.not_before && new Date(key.not_before).getTime() > now) return { kind: 'pending', label: t('status.notYetValid') };
  if (!key.expires_at) return { kind: 'active', label: t('status.activeNoExpiry') };
  const days = daysUntil(key.expires_at, now);
  if (new Date(key.expires_at).getTime() <= now) return { kind: 'expired', label: t('status.expired') };
  if (days <= 7) return { kind: 'expiring', label: days <= 1 ? t('status.expiresWithinDay') : counted(t, 'status.expiresInDays', days) };
  return { kind: 'active', label: counted(t, 'status.activeExpiresInDays', days) };
}
