/** Day boundaries in an IANA time zone, computed here because SQLite knows no time zones. */
import { Lru } from '../../lib/lru';

/** Longer than any IANA name (the longest has 32 characters): anything longer is refused unread. */
const MAX_NAME = 64;
/** More than the time-zone database has names and aliases (about 600): in practice nothing is evicted. */
const MAX_ZONES = 1000;

// Both caches are keyed by names Intl accepted, never by what a client typed: "europe/paris" in
// any case is one entry, and a name Intl refuses leaves nothing behind. A formatter is held per
// canonical zone only (each costs tens of kilobytes of native memory).
const canonicalNames = new Lru<string, string>(MAX_ZONES);
const formatters = new Lru<string, Intl.DateTimeFormat>(MAX_ZONES);

/**
 * The zone's canonical name (as Intl resolves it: `europe/paris` is `Europe/Paris`, `US/Pacific`
 * is `America/Los_Angeles`), or null when it is not a time zone.
 */
export function canonicalTimeZone(name: string): string | null {
  if (name.length > MAX_NAME) return null;
  // IANA names match case-insensitively (ECMA-402), so the lower-cased name stands for all spellings.
  const key = name.toLowerCase();
  let canonical = canonicalNames.get(key);
  if (canonical === undefined) {
    try {
      canonical = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    } catch {
      return null;
    }
    canonicalNames.set(key, canonical);
  }
  return canonical;
}

/** Entries held by the caches above (for tests: they must stay bounded whatever clients send). */
export const timeZoneCacheSize = () => canonicalNames.size + formatters.size;

function formatter(timeZone: string): Intl.DateTimeFormat {
  const canonical = canonicalTimeZone(timeZone);
  if (canonical === null) throw new RangeError(`Invalid time zone: ${timeZone.slice(0, MAX_NAME)}`);
  let f = formatters.get(canonical);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: canonical,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(canonical, f);
  }
  return f;
}

/** The wall-clock date and time in the zone at an instant. */
function wallClock(instant: number, timeZone: string) {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(instant)
      .map((p) => [p.type, Number(p.value)]),
  );
  return parts as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;
}

/** The zone's offset from UTC at an instant, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(instant / 1000) * 1000;
}

const MINUTE = 60_000;

/** The instant the local date begins in the zone (its midnight, or the end of a DST gap at midnight). */
export function startOfDay(year: number, month: number, day: number, timeZone: string): Date {
  const target = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  const guess = Date.UTC(year, month - 1, day);
  const at = guess - offsetAt(guess - offsetAt(guess, timeZone), timeZone);
  // The usual case: local midnight exists, and the minute before it is the day before.
  if (localDate(new Date(at), timeZone) === target && localDate(new Date(at - MINUTE), timeZone) < target) {
    return new Date(at);
  }
  // Where DST starts at midnight the day begins later: find its first minute (local dates only grow).
  let low = Math.floor((guess - 15 * 60 * MINUTE) / MINUTE);
  let high = Math.ceil((guess + 15 * 60 * MINUTE) / MINUTE);
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (localDate(new Date(mid * MINUTE), timeZone) < target) low = mid + 1;
    else high = mid;
  }
  return new Date(low * MINUTE);
}

/** The local date (YYYY-MM-DD) of an instant in the zone. */
export function localDate(instant: Date, timeZone: string): string {
  const w = wallClock(instant.getTime(), timeZone);
  return `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/** The local days overlapping [from, to), each with the instant it starts. */
export function daysBetween(from: Date, to: Date, timeZone: string): { day: string; start: Date }[] {
  const days: { day: string; start: Date }[] = [];
  let [y, m, d] = localDate(from, timeZone).split('-').map(Number) as [number, number, number];
  for (;;) {
    const start = startOfDay(y, m, d, timeZone);
    if (start >= to) break;
    days.push({ day: `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`, start });
    const next = new Date(Date.UTC(y, m - 1, d + 1));
    [y, m, d] = [next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()];
  }
  return days;
}
