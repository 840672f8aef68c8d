/** Day boundaries in an IANA time zone, computed here because SQLite knows no time zones. */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
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
