import {
  canonicalTimeZone,
  daysBetween,
  localDate,
  startOfDay,
  timeZoneCacheSize,
} from '../../../src/modules/usage/time-zones';

describe('day boundaries in a time zone', () => {
  it.each([
    ['UTC', 2026, 3, 29, '2026-03-29T00:00:00.000Z'],
    ['Europe/Paris', 2026, 3, 29, '2026-03-28T23:00:00.000Z'], // DST starts at 02:00 that day
    ['Europe/Paris', 2026, 3, 30, '2026-03-29T22:00:00.000Z'],
    ['Asia/Kolkata', 2026, 3, 29, '2026-03-28T18:30:00.000Z'],
    ['Asia/Kathmandu', 2026, 1, 1, '2025-12-31T18:15:00.000Z'],
    ['America/Los_Angeles', 2026, 11, 1, '2026-11-01T07:00:00.000Z'], // DST ends at 02:00 that day
    // DST starts at midnight: 00:00 does not exist, the day begins at 01:00 (UTC-3).
    ['America/Santiago', 2026, 9, 6, '2026-09-06T04:00:00.000Z'],
    ['America/Havana', 2026, 3, 8, '2026-03-08T05:00:00.000Z'],
  ])('%s %i-%i-%i begins at %s', (zone, y, m, d, expected) => {
    expect(startOfDay(y as number, m as number, d as number, zone as string).toISOString()).toBe(expected);
  });

  it('lists the local days of a range, across a DST change', () => {
    const days = daysBetween(new Date('2026-03-28T12:00:00Z'), new Date('2026-03-31T00:00:00Z'), 'Europe/Paris');
    expect(days.map((d) => [d.day, d.start.toISOString()])).toEqual([
      ['2026-03-28', '2026-03-27T23:00:00.000Z'],
      ['2026-03-29', '2026-03-28T23:00:00.000Z'],
      ['2026-03-30', '2026-03-29T22:00:00.000Z'],
      // The range ends at 02:00 local on the 31st, so that day is in it too.
      ['2026-03-31', '2026-03-30T22:00:00.000Z'],
    ]);
  });
});

/** The name with each letter's case picked by the bits of `n`: 2^20 distinct spellings. */
function spelling(name: string, n: number): string {
  return [...name].map((c, i) => ((n >> (i % 20)) & 1 ? c.toUpperCase() : c.toLowerCase())).join('');
}

describe('time zone names', () => {
  const zone = 'America/Argentina/ComodRivadavia';
  const canonical = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;

  it('are read in any case as their canonical name, and 5,000 spellings of one zone keep the cache bounded', () => {
    const before = timeZoneCacheSize();
    for (let n = 0; n < 5000; n++) {
      const name = spelling(zone, n);
      expect(canonicalTimeZone(name)).toBe(canonical);
      expect(localDate(new Date('2026-03-29T12:00:00Z'), name)).toBe('2026-03-29');
    }
    expect(timeZoneCacheSize() - before).toBeLessThanOrEqual(2);
    expect(canonicalTimeZone('europe/PARIS')).toBe('Europe/Paris');
  });

  it('that are not time zones are refused and leave nothing behind', () => {
    const before = timeZoneCacheSize();
    for (let n = 0; n < 1000; n++) expect(canonicalTimeZone(`Mars/Olympus-${n}`)).toBeNull();
    expect(canonicalTimeZone(`Europe/${'x'.repeat(10_000)}`)).toBeNull();
    expect(() => localDate(new Date(), 'Mars/Olympus')).toThrow(RangeError);
    expect(timeZoneCacheSize()).toBe(before);
  });
});
