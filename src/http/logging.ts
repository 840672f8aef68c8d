import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import pino from 'pino';
import type { LogLevel } from '../config';
import type { Metrics } from './metrics';

export type RequestFields = {
  req_id: string;
  method: string;
  path: string;
  started: number;
  /** What served it, once known: a REST route's template (`/chats/:chat_id`), for metrics. */
  route?: string;
  /** The GraphQL operation's name, once known, for the log line and metrics. */
  operation?: string;
};

const current = new AsyncLocalStorage<RequestFields>();

/**
 * One structured (JSON lines) logger for the whole process. Inside a request every line carries
 * the request's id, method and path, so an error logged deep down (e.g. by Yoga when it masks
 * an unexpected error) can be traced to the call that caused it.
 */
/** Where the lines go (stdout); exported so tests can read what was logged. */
export const logStream = pino.destination({ dest: 1, sync: true });

/** A gateway's logger, at its LOG_LEVEL. */
export function createLogger(level: LogLevel) {
  return pino(
    {
      level,
      base: { service: 'chat-gateway' },
      // "level":"info" and an ISO time rather than pino's numbers: what log collectors and people read.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => {
        const fields = current.getStore();
        return fields ? { req_id: fields.req_id, method: fields.method, path: fields.path } : {};
      },
    },
    logStream,
  );
}

export type Logger = ReturnType<typeof createLogger>;

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** A request's log fields: its id is the caller's `X-Request-Id` if sane, else a new UUID. */
export function requestFields(givenId: string | null | undefined, method: string, path: string): RequestFields {
  return {
    req_id: givenId && REQUEST_ID.test(givenId) ? givenId : randomUUID(),
    method,
    path,
    started: performance.now(),
  };
}

/** Runs `fn` as part of the request: every line it logs carries the request's id, method and path. */
export function inRequest<T>(fields: RequestFields, fn: () => T): T {
  return current.run(fields, fn);
}

/** The request being served, if any: the layers that learn what it is (route, operation) note it here. */
export function currentRequest(): RequestFields | undefined {
  return current.getStore();
}

/** Pages outside the REST route map, as metric labels; any other unmapped path is "unmatched". */
const PAGES = new Set(['/', '/graphql', '/health', '/ready', '/metrics', '/openapi.json', '/docs', '/favicon.ico']);
const pageOf = (path: string) => (PAGES.has(path) ? path : path.startsWith('/docs/') ? '/docs' : 'unmatched');

/** The one line logged per response, inside the request (see inRequest), and its metrics. */
export function logResponse(
  logger: Logger,
  metrics: Pick<Metrics, 'observeResponse'>,
  fields: RequestFields,
  status: number,
): void {
  const seconds = (performance.now() - fields.started) / 1000;
  const duration_ms = Math.round(seconds * 10_000) / 10;
  logger.info(
    fields.operation ? { status, duration_ms, operation: fields.operation } : { status, duration_ms },
    'request',
  );
  metrics.observeResponse(
    { route: fields.route ?? pageOf(fields.path), operation: fields.operation ?? '', method: fields.method, status },
    seconds,
  );
}

/** Gives every request an id (the caller's `X-Request-Id` if sane) and logs one line per response. */
export function useRequestLogging(logger: Logger, metrics: Pick<Metrics, 'observeResponse'>): Plugin {
  return {
    instrumentation: {
      request: ({ request }, wrapped) =>
        inRequest(
          requestFields(request.headers.get('x-request-id'), request.method, new URL(request.url).pathname),
          wrapped,
        ),
    },
    onResponse({ response }) {
      const fields = current.getStore();
      if (!fields) return;
      response.headers.set('x-request-id', fields.req_id);
      logResponse(logger, metrics, fields, response.status);
    },
  };
}
