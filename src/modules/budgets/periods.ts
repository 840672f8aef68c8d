import { localDate, startOfDay } from '../usage/time-zones';

/*
 * A budget's calendar periods, in its own time zone, as the usage summaries count days: a day
 * from local midnight, a week from Monday's, a month from the 1st's. Daylight-saving changes make
 * some days 23 or 25 hours long; the boundaries stay local midnights.
 */

export const PERIODS = ['day', 'week', 'month'] as const;
export type Period = (typeof PERIODS)[number];

/** The local date `days` days after (y, m, d), as numbers (Date.UTC does the calendar arithmetic). */
function addDays(y: number, m: number, d: number, days: number): [number, number, number] {
  const next = new Date(Date.UTC(y, m - 1, d + days));
  return [next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()];
}

/** The period containing `at`: when it started and when it ends (the next one starts). */
export function periodAt(period: Period, at: Date, timeZone: string): { start: Date; end: Date } {
  const [y, m, d] = localDate(at, timeZone).split('-').map(Number) as [number, number, number];
  let first: [number, number, number];
  let next: [number, number, number];
  if (period === 'day') {
    first = [y, m, d];
    next = addDays(y, m, d, 1);
  } else if (period === 'week') {
    // getUTCDay: 0 is Sunday; ISO weeks start on Monday.
    const sinceMonday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
    first = addDays(y, m, d, -sinceMonday);
    next = addDays(...first, 7);
  } else {
    first = [y, m, 1];
    next = m === 12 ? [y + 1, 1, 1] : [y, m + 1, 1];
  }
  return { start: startOfDay(...first, timeZone), end: startOfDay(...next, timeZone) };
}
