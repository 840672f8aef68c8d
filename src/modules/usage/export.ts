import type { Plugin } from 'graphql-yoga';
import type { Auth } from '../../auth/identify';
import type { Db } from '../../db/client';
import { AppError } from '../../graphql/errors';
import { type Logger, requestLogger } from '../../http/logging';
import { detailResponse, downloadHeaders, refuseDownload } from '../../http/respond';
import { GROUP_KEYS, type GroupKey, parseInstant, usageSummary } from './summary';
import { canonicalTimeZone } from './time-zones';

/*
 * GET /usage/export (admins): the ledger's rows, or its grouped summary, as CSV or JSON, streamed.
 * Rows are read a page at a time by usage_id (a keyset, so each page costs the same) and written
 * as the client reads them: a month of a busy service, a million rows, goes out in constant memory.
 * It is an HTTP route of its own, not a GraphQL field: a GraphQL result is built whole before it
 * is sent.
 */

export const USAGE_EXPORT_PATH = '/usage/export';
const PAGE = 2000;
const PARAMS = new Set(['from', 'to', 'group_by', 'time_zone', 'user_id', 'format']);

export const EXPORT_COLUMNS = [
  'usage_id',
  'timestamp',
  'user_id',
  'chat_id',
  'api_key_id',
  'model_name',
  'provider',
  'prompt_tokens',
  'completion_tokens',
  'cached_prompt_tokens',
  'reasoning_tokens',
  'total_tokens',
  'cost_usd',
  'price_known',
  'is_streaming',
  'request_time_ms',
] as const;

export type Cell = string | number | boolean | null;

/** Micro-dollars as an exact decimal ("0.000125"), never through a float. */
function dollars(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const text = `${abs / 1_000_000n}.${String(abs % 1_000_000n).padStart(6, '0')}`;
  return negative ? `-${text}` : text;
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. Text that a
 * spreadsheet would run as a formula (=, +, -, @ first) gets a leading apostrophe (OWASP's advice):
 * model names come from clients.
 */
function csvField(value: Cell): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export type Format = 'csv' | 'json';

/** Writes rows as CSV lines or as the items of one JSON array. */
export function writer(format: Format, columns: readonly string[]) {
  let first = true;
  return {
    head: format === 'csv' ? `${columns.join(',')}\r\n` : '[',
    row(values: Cell[]): string {
      if (format === 'csv') return `${values.map(csvField).join(',')}\r\n`;
      const item = JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, values[i]])));
      const text = first ? `\n${item}` : `,\n${item}`;
      first = false;
      return text;
    },
    tail: format === 'csv' ? '' : '\n]\n',
  };
}

type ExportQuery = {
  from: Date | null;
  to: Date;
  fromText: string | null;
  toText: string | null;
  groupBy: GroupKey[];
  timeZone: string;
  userId: number | null;
  format: Format;
};

/** The query string, checked: AppError BAD_USER_INPUT (422) naming what is wrong. */
function parseQuery(url: URL): ExportQuery {
  const bad = (message: string) => new AppError('BAD_USER_INPUT', message);
  for (const name of url.searchParams.keys()) {
    if (!PARAMS.has(name)) throw bad(`${name}: unknown parameter (expected ${[...PARAMS].join(', ')})`);
  }
  const one = (name: string) => {
    const all = url.searchParams.getAll(name);
    if (all.length > 1 && name !== 'group_by') throw bad(`${name}: given more than once`);
    return all[0] ?? null;
  };
  const format = (one('format') ?? 'csv').toLowerCase();
  if (format !== 'csv' && format !== 'json') throw bad('format: must be csv or json');
  const zone = one('time_zone') ?? 'UTC';
  const timeZone = canonicalTimeZone(zone);
  if (timeZone === null) throw bad(`time_zone: "${zone.slice(0, 64)}" is not an IANA time zone`);
  const groupBy = [
    ...new Set(
      url.searchParams
        .getAll('group_by')
        .flatMap((v) => v.split(','))
        .filter(Boolean)
        .map((v) => v.trim().toUpperCase()),
    ),
  ];
  for (const key of groupBy) {
    if (!(GROUP_KEYS as readonly string[]).includes(key)) {
      throw bad(`group_by: "${key.slice(0, 20)}" is not one of ${GROUP_KEYS.join(', ')}`);
    }
  }
  const userText = one('user_id');
  if (userText !== null && !/^\d{1,9}$/.test(userText)) throw bad('user_id: must be an integer');
  const fromText = one('from');
  const toText = one('to');
  const from = fromText === null ? null : parseInstant(fromText, 'from', timeZone);
  const to = toText === null ? new Date() : parseInstant(toText, 'to', timeZone);
  if (from && from >= to) throw bad('from must be before to');
  return {
    from,
    to,
    fromText,
    toText,
    groupBy: groupBy as GroupKey[],
    timeZone,
    userId: userText === null ? null : Number(userText),
    format,
  };
}

/**
 * The ledger's rows in [from, to), a page at a time, as a stream of text. `abort` cuts the
 * connection: once the status is sent, a failure can only show as a download that ends broken.
 */
function rowsStream(
  db: Db,
  query: ExportQuery,
  logger: Pick<Logger, 'error'>,
  abort: () => void,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const out = writer(query.format, EXPORT_COLUMNS);
  let after = 0;
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(out.head));
    },
    // Called when the client has read what was sent: one page per pull, so a slow reader holds one page.
    async pull(controller) {
      if (done) return;
      try {
        const page = await db.modelUsage.findMany({
          where: {
            usage_id: { gt: after },
            timestamp: { lt: query.to, ...(query.from ? { gte: query.from } : {}) },
            ...(query.userId === null ? {} : { user_id: query.userId }),
          },
          orderBy: { usage_id: 'asc' },
          take: PAGE,
        });
        let text = '';
        for (const r of page) {
          text += out.row([
            r.usage_id,
            r.timestamp.toISOString(),
            r.user_id,
            r.chat_id,
            r.api_key_id,
            r.model_name,
            r.provider,
            r.prompt_tokens,
            r.completion_tokens,
            r.cached_prompt_tokens,
            r.reasoning_tokens,
            r.total_tokens,
            query.format === 'csv' ? dollars(r.cost_micros) : Number(r.cost_micros) / 1_000_000,
            r.price_known,
            r.is_streaming,
            r.request_time_ms,
          ]);
        }
        if (page.length < PAGE) {
          text += out.tail;
          done = true;
        } else {
          after = page[page.length - 1]?.usage_id ?? after;
        }
        controller.enqueue(encoder.encode(text));
        if (done) controller.close();
      } catch (error) {
        // The status is sent already: the connection is cut, so the client sees a broken download
        // (an errored stream alone would leave the response open).
        logger.error({ err: error }, 'usage export failed while streaming');
        done = true;
        abort();
        controller.close();
      }
    },
  });
}

const SUMMARY_COLUMNS = [
  'day',
  'model_name',
  'provider',
  'user_id',
  'chat_id',
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'cached_prompt_tokens',
  'reasoning_tokens',
  'total_tokens',
  'cost_usd',
] as const;

/** The grouped summary (at most MAX_GROUPS rows, so built whole) as text. */
async function summaryText(db: Db, query: ExportQuery): Promise<string> {
  const summary = await usageSummary(db, {
    from: query.fromText,
    to: query.toText,
    group_by: query.groupBy,
    time_zone: query.timeZone,
    user_id: query.userId,
  });
  const columns = SUMMARY_COLUMNS.filter(
    (c) =>
      !['day', 'model_name', 'provider', 'user_id', 'chat_id'].includes(c) ||
      query.groupBy.includes(
        ({ day: 'DAY', model_name: 'MODEL', provider: 'PROVIDER', user_id: 'USER', chat_id: 'CHAT' } as const)[
          c as 'day'
        ],
      ),
  );
  const out = writer(query.format, columns);
  let text = out.head;
  for (const row of summary.rows) {
    const record = row as unknown as Record<string, Cell>;
    text += out.row(columns.map((c) => (c === 'cost_usd' ? row.cost : (record[c] ?? null))));
  }
  return text + out.tail;
}

/** The export route, for admins, as a Yoga plugin. */
export function useUsageExport(options: { db: Db; auth: Auth; logger: Logger; bearer: boolean }): Plugin {
  return {
    async onRequest({ request, url, serverContext, endResponse }) {
      if (url.pathname !== USAGE_EXPORT_PATH) return;
      const refused = await refuseDownload(
        options,
        request,
        serverContext,
        'Exporting the usage ledger needs an admin (X-Admin-API-Key)',
      );
      if (refused) return endResponse(refused);
      let query: ExportQuery;
      try {
        query = parseQuery(url);
      } catch (error) {
        if (error instanceof AppError) return endResponse(detailResponse(422, error.message));
        throw error;
      }
      const grouped = query.groupBy.length > 0;
      const stamp = new Date().toISOString().slice(0, 10);
      const headers = downloadHeaders(query.format, `usage-${grouped ? 'summary' : 'rows'}-${stamp}`);
      // HEAD: the headers a GET would get, and no reading of the ledger.
      if (request.method === 'HEAD') return endResponse(new Response(null, { headers }));
      if (grouped) {
        try {
          return endResponse(new Response(await summaryText(options.db, query), { headers }));
        } catch (error) {
          if (error instanceof AppError) return endResponse(detailResponse(422, error.message));
          throw error;
        }
      }
      const socket = (serverContext as { req?: { socket?: { destroy(): void } } }).req?.socket;
      const abort = () => socket?.destroy();
      endResponse(
        new Response(rowsStream(options.db, query, requestLogger(options.logger, request), abort), {
          headers,
        }),
      );
    },
  };
}
