import type { Plugin } from 'graphql-yoga';
import type { Auth } from '../../auth/identify';
import type { Db } from '../../db/client';
import { AppError } from '../../graphql/errors';
import { type Logger, requestLogger } from '../../http/logging';
import { detailResponse, downloadHeaders, refuseDownload } from '../../http/respond';
import { type Cell, type Format, writer } from '../usage/export';
import { FEEDBACK_COLUMNS, type FeedbackFilter, feedbackFilter, feedbackPage } from './rows';

/*
 * GET /feedback (admins): every feedback row with its question, answer and model, as CSV or JSON,
 * streamed a page at a time by message_id as the client reads, like GET /usage/export: feedback
 * carries whole answers, so an export can be large.
 */

export const FEEDBACK_EXPORT_PATH = '/feedback';
// Rows carry whole answers (up to MAX_MESSAGE_LENGTH each): small pages keep a slow reader’s share of memory small.
const PAGE = 100;
const PARAMS = new Set(['from', 'to', 'rating', 'format']);

type ExportQuery = FeedbackFilter & { format: Format };

/** The query string, checked: AppError BAD_USER_INPUT (422) naming what is wrong. */
function parseQuery(url: URL): ExportQuery {
  const bad = (message: string) => new AppError('BAD_USER_INPUT', message);
  for (const name of url.searchParams.keys()) {
    if (!PARAMS.has(name)) throw bad(`${name}: unknown parameter (expected ${[...PARAMS].join(', ')})`);
  }
  const one = (name: string) => {
    const all = url.searchParams.getAll(name);
    if (all.length > 1) throw bad(`${name}: given more than once`);
    return all[0] ?? null;
  };
  const format = (one('format') ?? 'csv').toLowerCase();
  if (format !== 'csv' && format !== 'json') throw bad('format: must be csv or json');
  return { ...feedbackFilter({ from: one('from'), to: one('to'), rating: one('rating') }), format };
}

/** The rows, a page at a time, as text; `abort` cuts the connection if reading fails once the status is sent. */
function rowsStream(db: Db, query: ExportQuery, logger: Pick<Logger, 'error'>, abort: () => void) {
  const encoder = new TextEncoder();
  const out = writer(query.format, FEEDBACK_COLUMNS);
  let after = 0;
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(out.head));
    },
    async pull(controller) {
      if (done) return;
      try {
        const page = await feedbackPage(db, query, { after, take: PAGE });
        let text = '';
        for (const row of page) {
          const record = row as unknown as Record<string, Cell | Date>;
          text += out.row(
            FEEDBACK_COLUMNS.map((c) => {
              const value = record[c] ?? null;
              return value instanceof Date ? value.toISOString() : value;
            }),
          );
        }
        if (page.length < PAGE) {
          text += out.tail;
          done = true;
        } else {
          after = page[page.length - 1]?.message_id ?? after;
        }
        controller.enqueue(encoder.encode(text));
        if (done) controller.close();
      } catch (error) {
        logger.error({ err: error }, 'feedback export failed while streaming');
        done = true;
        abort();
        controller.close();
      }
    },
  });
}

/** The feedback export route, for admins, as a Yoga plugin. */
export function useFeedbackExport(options: { db: Db; auth: Auth; logger: Logger; bearer: boolean }): Plugin {
  return {
    async onRequest({ request, url, serverContext, endResponse }) {
      if (url.pathname !== FEEDBACK_EXPORT_PATH) return;
      const refused = await refuseDownload(
        options,
        request,
        serverContext,
        'Exporting feedback needs an admin (X-Admin-API-Key)',
      );
      if (refused) return endResponse(refused);
      let query: ExportQuery;
      try {
        query = parseQuery(url);
      } catch (error) {
        if (error instanceof AppError) return endResponse(detailResponse(422, error.message));
        throw error;
      }
      const stamp = new Date().toISOString().slice(0, 10);
      const headers = downloadHeaders(query.format, `feedback-${stamp}`);
      if (request.method === 'HEAD') return endResponse(new Response(null, { headers }));
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
