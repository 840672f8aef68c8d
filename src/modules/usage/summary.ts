import type { Db } from '../../db/client';
import { Prisma } from '../../generated/prisma/client';
import { badInput } from '../../graphql/errors';
import { canonicalTimeZone, daysBetween, startOfDay } from './time-zones';

export const GROUP_KEYS = ['MODEL', 'PROVIDER', 'USER', 'CHAT', 'DAY'] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

const COLUMN: Record<
  Exclude<GroupKey, 'DAY'>,
  { sql: string; key: 'model_name' | 'provider' | 'user_id' | 'chat_id' }
> = {
  MODEL: { sql: '"model_name"', key: 'model_name' },
  PROVIDER: { sql: '"provider"', key: 'provider' },
  USER: { sql: '"user_id"', key: 'user_id' },
  CHAT: { sql: '"chat_id"', key: 'chat_id' },
};

const SUMS = [
  'prompt_tokens',
  'completion_tokens',
  'cached_prompt_tokens',
  'reasoning_tokens',
  'total_tokens',
] as const;
type Sums = Record<(typeof SUMS)[number] | 'requests' | 'cost', number>;

export type SummaryRow = Sums & {
  model_name?: string;
  provider?: string;
  user_id?: number | null;
  chat_id?: number | null;
  day?: string;
};

export type Summary = {
  time_zone: string;
  from: Date | null;
  to: Date;
  group_by: GroupKey[];
  rows: SummaryRow[];
  totals: Sums;
};

export type SummaryInput = {
  user_id?: number | null;
  chat_id?: number | null;
  from?: string | null;
  to?: string | null;
  group_by?: readonly GroupKey[] | null;
  time_zone?: string | null;
};

const MAX_DAYS = 400;
/** The most rows a summary answers, so that its size (and the complexity count of `rows`) has a bound. */
export const MAX_GROUPS = 1000;

const FIRST_YEAR = 1970;
const LAST_YEAR = 9998;

/** `2026-11-01` is that day's start in the time zone; anything else must be an ISO instant with its offset. */
export function parseInstant(value: string, name: string, timeZone: string): Date {
  const fail = () =>
    badInput(
      `${name}: must be a date (2026-11-01) or an ISO 8601 instant with its offset, years ${FIRST_YEAR} to ${LAST_YEAR}`,
    );
  const date = value.match(/^(\d{4})-(\d\d)-(\d\d)$/);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const check = new Date(Date.UTC(2000, m - 1, d));
    check.setUTCFullYear(y);
    // Refuse 2026-02-31 rather than read it as March 3.
    if (y < FIRST_YEAR || y > LAST_YEAR || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) throw fail();
    return startOfDay(y, m, d, timeZone);
  }
  const at = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value) ? new Date(value) : null;
  if (!at || Number.isNaN(at.getTime())) throw fail();
  if (at.getUTCFullYear() < FIRST_YEAR || at.getUTCFullYear() > LAST_YEAR) throw fail();
  return at;
}

const round = (usd: number) => Math.round(usd * 1e11) / 1e11;

/**
 * The index of the day a row's timestamp falls in, among days[low..high], as a balanced tree of
 * CASEs: about log2(days) comparisons a row instead of one per day. The WHERE clause bounds the
 * first and last day.
 */
function dayIndex(days: { start: Date }[], low: number, high: number): Prisma.Sql {
  if (low === high) return Prisma.sql`${low}`;
  const mid = Math.ceil((low + high) / 2);
  return Prisma.sql`CASE WHEN "timestamp" < ${days[mid]?.start} THEN ${dayIndex(days, low, mid - 1)} ELSE ${dayIndex(days, mid, high)} END`;
}

/**
 * Sums of the ledger grouped by any of model, provider, user, chat and day. Days are local days
 * in the requested IANA time zone on both databases: their boundaries are computed here and the
 * database only compares timestamps, which the timestamp index serves.
 */
export async function usageSummary(db: Db, input: SummaryInput): Promise<Summary> {
  const timeZone = canonicalTimeZone(input.time_zone ?? 'UTC');
  if (timeZone === null) throw badInput(`time_zone: "${input.time_zone}" is not an IANA time zone`);
  const groupBy = [...new Set(input.group_by ?? [])];
  const to = input.to ? parseInstant(input.to, 'to', timeZone) : new Date();
  let from = input.from ? parseInstant(input.from, 'from', timeZone) : null;
  if (from && from >= to) throw badInput('from must be before to');

  const filters: Prisma.Sql[] = [Prisma.sql`"timestamp" < ${to}`];
  if (input.user_id != null) filters.push(Prisma.sql`"user_id" = ${input.user_id}`);
  if (input.chat_id != null) filters.push(Prisma.sql`"chat_id" = ${input.chat_id}`);

  let days: { day: string; start: Date }[] = [];
  if (groupBy.includes('DAY')) {
    if (!from) {
      const [first] = await db.$queryRaw<{ t: Date | string | null }[]>(
        Prisma.sql`SELECT MIN("timestamp") AS t FROM "ModelUsage" WHERE ${Prisma.join(filters, ' AND ')}`,
      );
      from = first?.t ? new Date(first.t) : to;
    }
    // Checked before listing the days, which would otherwise take as long as the range is wide.
    if (to.getTime() - from.getTime() > (MAX_DAYS + 1) * 86_400_000) {
      throw badInput(`Grouping by DAY covers at most ${MAX_DAYS} days: narrow from/to`);
    }
    days = daysBetween(from, to, timeZone);
    if (days.length > MAX_DAYS) throw badInput(`Grouping by DAY covers at most ${MAX_DAYS} days: narrow from/to`);
  }
  if (from) filters.push(Prisma.sql`"timestamp" >= ${from}`);

  const keys = groupBy.filter((k): k is Exclude<GroupKey, 'DAY'> => k !== 'DAY').map((k) => COLUMN[k]);
  const selects = keys.map((c) => Prisma.raw(`${c.sql} AS "${c.key}"`));
  const groups = keys.map((c) => Prisma.raw(c.sql));
  if (days.length > 0) {
    selects.push(Prisma.sql`${dayIndex(days, 0, days.length - 1)} AS "day_index"`);
    groups.push(Prisma.raw('"day_index"'));
  }
  const sums = SUMS.map((s) => Prisma.raw(`SUM("${s}") AS "${s}"`));
  const query = Prisma.sql`SELECT ${Prisma.join([...selects, Prisma.raw('COUNT(*) AS "requests"'), ...sums, Prisma.raw('SUM("cost") AS "cost"')])}
    FROM "ModelUsage" WHERE ${Prisma.join(filters, ' AND ')}
    ${groups.length > 0 ? Prisma.sql`GROUP BY ${Prisma.join(groups)}` : Prisma.empty}
    LIMIT ${Prisma.raw(String(MAX_GROUPS + 1))}`;
  const raw = await db.$queryRaw<Record<string, unknown>[]>(query);
  if (raw.length > MAX_GROUPS) {
    throw badInput(`The summary has more than ${MAX_GROUPS} groups: narrow from/to, or group by fewer keys`);
  }

  // SQLite returns BigInt for integer sums and PostgreSQL strings for bigint: GraphQL wants numbers.
  const rows: SummaryRow[] = raw
    .filter((r) => Number(r.requests) > 0)
    .map((r) => {
      const row: SummaryRow = {
        requests: Number(r.requests),
        ...(Object.fromEntries(SUMS.map((s) => [s, Number(r[s] ?? 0)])) as Record<(typeof SUMS)[number], number>),
        cost: round(Number(r.cost ?? 0)),
      };
      for (const c of keys) {
        const value = r[c.key];
        (row as Record<string, unknown>)[c.key] =
          c.key === 'user_id' || c.key === 'chat_id' ? (value == null ? null : Number(value)) : value;
      }
      if (days.length > 0) row.day = days[Number(r.day_index)]?.day;
      return row;
    })
    .sort((a, b) => (a.day ?? '').localeCompare(b.day ?? '') || b.cost - a.cost);

  const totals = { requests: 0, cost: 0, ...Object.fromEntries(SUMS.map((s) => [s, 0])) } as Sums;
  for (const row of rows) {
    for (const k of Object.keys(totals) as (keyof Sums)[]) totals[k] += row[k];
  }
  totals.cost = round(totals.cost);
  return { time_zone: timeZone, from, to, group_by: groupBy, rows, totals };
}
