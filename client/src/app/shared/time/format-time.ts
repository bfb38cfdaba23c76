const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86400e3],
  ['month', 30 * 86400e3],
  ['week', 7 * 86400e3],
  ['day', 86400e3],
  ['hour', 3600e3],
  ['minute', 60e3],
];

/** "3 minutes ago", "in 12 days", "now": in the viewer's locale. */
export function relativeTime(iso: string, now: number, locale?: string): string {
  const delta = new Date(iso).getTime() - now;
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  for (const [unit, ms] of UNITS) {
    if (Math.abs(delta) >= ms) return format.format(Math.round(delta / ms), unit);
  }
  return format.format(0, 'second');
}

/** The exact instant in the viewer's time zone and locale, with the zone named. */
export function exactTime(iso: string, locale?: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'long', timeZone }).format(new Date(iso));
}

export function daysUntil(iso: string, now: number): number {
  return Math.round((new Date(iso).getTime() - now) / 86400e3);
}
