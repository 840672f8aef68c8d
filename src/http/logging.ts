import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import pino from 'pino';
import type { LogLevel } from '../config';
import { OPERATIONS_PATHS } from './health';
import type { Metrics } from './metrics';
import type { RequestTrace, Tracing } from './tracing';

export type RequestFields = {
  req_id: string;
  method: string;
  path: string;
  started: number;
  /** What served it, once known: a REST route's template (`/chats/:chat_id`), for metrics. */
  route?: string;
  /** The GraphQL operation's name, once known, for the log line and metrics. */
  operation?: string;
  /** The request's trace, while tracing is on (http/tracing.ts). */
  trace?: RequestTrace;
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
        if (!fields) return {};
        const { req_id, method, path, trace } = fields;
        // With tracing on, each line names its trace and span, for finding one from the other.
        return trace
          ? { req_id, method, path, trace_id: trace.traceId, span_id: trace.spanId }
          : { req_id, method, path };
      },
    },
    logStream,
  );
}

export type Logger = ReturnType<typeof createLogger>;

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * A request's log fields: its id is the caller's `X-Request-Id` if sane, else a new UUID; its path
 * as logs and traces may record it (loggedPath).
 */
export function requestFields(givenId: string | null | undefined, method: string, path: string): RequestFields {
  return {
    req_id: givenId && REQUEST_ID.test(givenId) ? givenId : randomUUID(),
    method,
    path: loggedPath(path),
    started: performance.now(),
  };
}

/**
 * The path as logs and traces record it. A share link's token is the link's only secret (anyone
 * holding it reads the chat), so it is left out, as a password in a URL would be.
 */
export const loggedPath = (path: string) => (path.startsWith('/shared/') ? '/shared/[token]' : path);

/** Runs `fn` as part of the request: every line it logs carries the request's id, method and path. */
export function inRequest<T>(fields: RequestFields, fn: () => T): T {
  return current.run(fields, fn);
}

/** The request being served, if any: the layers that learn what it is (route, operation) note it here. */
export function currentRequest(): RequestFields | undefined {
  return current.getStore();
}

/** Pages outside the REST route map, as metric labels; any other unmapped path is "unmatched". */
const PAGES = new Set(['/', '/graphql', ...Object.values(OPERATIONS_PATHS), '/openapi.json', '/docs', '/favicon.ico']);
/** Folders of static files, each one label: `/docs/swagger-ui.css` counts as `/docs`. */
const FILE_FOLDERS = ['/docs', '/graphiql'];
const pageOf = (path: string) =>
  PAGES.has(path) ? path : (FILE_FOLDERS.find((folder) => path.startsWith(`${folder}/`)) ?? 'unmatched');

/** The one line logged per response, inside the request (see inRequest), its metrics, and the end of its span. */
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
  const route = fields.route ?? pageOf(fields.path);
  metrics.observeResponse({ route, operation: fields.operation ?? '', method: fields.method, status }, seconds);
  fields.trace?.end(status, route);
}

/**
 * Gives every request an id (the caller's `X-Request-Id` if sane) and, with tracing on, a span;
 * logs one line per response.
 */
export function useRequestLogging(
  logger: Logger,
  metrics: Pick<Metrics, 'observeResponse'>,
  tracing: Tracing | null,
): Plugin {
  return {
    instrumentation: {
      request: ({ request }, wrapped) => {
        const fields = requestFields(
          request.headers.get('x-request-id'),
          request.method,
          new URL(request.url).pathname,
        );
        if (tracing) fields.trace = tracing.begin(request.method, fields.path, (name) => request.headers.get(name));
        return inRequest(fields, wrapped);
      },
    },
    onResponse({ response }) {
      const fields = current.getStore();
      if (!fields) return;
      response.headers.set('x-request-id', fields.req_id);
      logResponse(logger, metrics, fields, response.status);
    },
  };
}
