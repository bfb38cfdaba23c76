import { englishTranslate } from '../../i18n/testing';
import { keyStatus as statusOf } from './key-status';
import { exactTime, relativeTime } from '../../shared/time/format-time';

const keyStatus = (key: Parameters<typeof statusOf>[0], now: number) => statusOf(key, now, englishTranslate);
const NOW = Date.parse('2026-11-29T12:00:00Z');
const inDays = (d: number) => new Date(NOW + d * 86400e3).toISOString();

describe('keyStatus', () => {
  it('says when a key never expires', () => {
    expect(keyStatus({ expires_at: null, not_before: null }, NOW)).toEqual({ kind: 'active', label: 'Active · no expiry' });
  });
  it('counts the days left', () => {
    expect(keyStatus({ expires_at: inDays(90), not_before: null }, NOW)).toEqual({ kind: 'active', label: 'Active · expires in 90 days' });
  });
  it('warns in the last week', () => {
    expect(keyStatus({ expires_at: inDays(3), not_before: null }, NOW)).toEqual({ kind: 'expiring', label: 'Expires in 3 days' });
    expect(keyStatus({ expires_at: inDays(0.2), not_before: null }, NOW).label).toBe('Expires within a day');
  });
  it('marks expired and not-yet-valid keys', () => {
    expect(keyStatus({ expires_at: inDays(-1), not_before: null }, NOW).kind).toBe('expired');
    expect(keyStatus({ expires_at: null, not_before: inDays(1) }, NOW).kind).toBe('pending');
  });
});

describe('time formatting', () => {
  it("writes relative times in the viewer's words", () => {
    expect(relativeTime(new Date(NOW - 3 * 60e3).toISOString(), NOW, 'en')).toBe('3 minutes ago');
    expect(relativeTime(new Date(NOW - 5e3).toISOString(), NOW, 'en')).toBe('now');
    expect(relativeTime(inDays(2), NOW, 'en')).toBe('in 2 days');
    expect(relativeTime(new Date(NOW - 3 * 60e3).toISOString(), NOW, 'de')).toBe('vor 3 Minuten');
  });
  it("shows the exact time in the viewer's zone, not UTC", () => {
    const text = exactTime('2026-11-29T12:00:00Z', 'en-GB', 'Asia/Tokyo');
    expect(text).toContain('21:00:00');
    expect(text).toMatch(/GMT\+9|JST/);
  });

  it('says when a replaced key stops working', () => {
    expect(keyStatus({ expires_at: new Date(NOW + 5 * 3_600_000).toISOString(), not_before: null, status: 'rotated' }, NOW)).toEqual({
      kind: 'rotated',
      label: 'Replaced · stops working in 5 hours',
    });
    // A page clock a minute behind still reads the grace period the person chose.
    expect(
      keyStatus({ expires_at: new Date(NOW + 24 * 3_600_000 + 60_000).toISOString(), not_before: null, status: 'rotated' }, NOW).label,
    ).toBe('Replaced · stops working in 24 hours');
    expect(keyStatus({ expires_at: inDays(-1), not_before: null, status: 'rotated' }, NOW).label).toBe('Replaced · stopped working');
  });
});
