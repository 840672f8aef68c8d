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
  /** The request's logger, once something logged during it (requestLogger). */
  logger?: Logger;
};

/*
 * How what happens during a request is tied to it.
 *
 * Explicitly, always: each HTTP layer registers the request's fields under its fetch Request
 * (inRequest), where the code that learns something about the request (its route, its operation)
 * or logs during it finds them (requestOf, requestLogger), from the request or the GraphQL
 * context that holds it. Lines logged during a request carry its id, method and path that way.
 *
 * Implicitly (AsyncLocalStorage), only when a gateway asks for it (`propagate`: with tracing on,
 * or LOG_LEVEL=debug): what Prisma reports of a statement comes with no request, and only the
 * async context can tell which request ran it, for its span and its debug line (currentRequest).
 * On Node 20 and 22 an active AsyncLocalStorage adds a promise hook to every promise the process
 * makes, about a tenth of a /graphql read's CPU and 3% of a REST read's (bench/README.md,
 * "Changes measured"), so it is not used for what the explicit tie already does. (Node 24's
 * AsyncContextFrame makes it nearly free.)
 */
const current = new AsyncLocalStorage<RequestFields>();
const byRequest = new WeakMap<Request, RequestFields>();

/** Where the lines go (stdout); exported so tests can read what was logged. */
export const logStream = pino.destination({ dest: 1, sync: true });

/**
 * A gateway's structured (JSON lines) logger, at its LOG_LEVEL. Lines written during a request go
 * through requestLogger, so an error logged deep down (e.g. by Yoga when it masks an unexpected
 * error) can be traced to the call that caused it.
 */
export function createLogger(level: LogLevel) {
  return pino(
    {
      level,
      base: { service: 'chat-gateway' },
      // "level":"info" and an ISO time rather than pino's numbers: what log collectors and people read.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
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

/**
 * Runs `fn` as the handling of `request`, whose fields are found with requestOf(request) from then
 * on; with `propagate`, also in an async context of its own (currentRequest).
 */
export function inRequest<T>(request: Request, fields: RequestFields, propagate: boolean, fn: () => T): T {
  byRequest.set(request, fields);
  return propagate ? current.run(fields, fn) : fn();
}

/** The fields of the request being served: the layers that learn what it is (route, operation) note it here. */
export function requestOf(request: Request | undefined): RequestFields | undefined {
  return request && byRequest.get(request);
}

/**
 * The request whose async context this is, only while its gateway propagates it (see inRequest):
 * for what comes without a request, as Prisma's statement events do. Anything else uses requestOf.
 */
export function currentRequest(): RequestFields | undefined {
  return current.getStore();
}

/** What each line logged during a request carries. */
function bindingsOf({ req_id, method, path, trace }: RequestFields): Record<string, string> {
  // With tracing on, each line names its trace and span, for finding one from the other.
  return trace ? { req_id, method, path, trace_id: trace.traceId, span_id: trace.spanId } : { req_id, method, path };
}

/**
 * The logger for lines written during a request, named by its fields or by the fetch Request being
 * served (`base` outside one): each line carries the request's id, method and path.
 */
export function requestLogger(base: Logger, of: RequestFields | Request | undefined): Logger {
  // Structurally: @whatwg-node's server may hand over its own Request class, not the global one.
  const fields = of === undefined || 'req_id' in of ? of : requestOf(of);
  if (!fields) return base;
  // Made at the request's first such line, then kept: most requests log none.
  fields.logger ??= base.child(bindingsOf(fields));
  return fields.logger;
}

/** Where an error that GraphQL execution reported notes the request it failed in (noteRequestOfErrors). */
const REQUEST_OF_ERROR = Symbol('request of error');

/**
 * Notes on each error of an execution's result the request it failed in, for the line Yoga logs
 * when it masks one (yogaLogger). Yoga logs it with nothing but the error.
 */
export function noteRequestOfErrors(errors: readonly unknown[] | undefined, fields: RequestFields | undefined): void {
  if (!errors || !fields) return;
  for (const error of errors) {
    if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
      (error as Record<symbol, unknown>)[REQUEST_OF_ERROR] = fields;
    }
  }
}

/**
 * Yoga's logger: an error it logs (one it masked) is logged with its request, when noted; any
 * other line with the request of the async context, when the gateway keeps one (inRequest).
 */
export function yogaLogger(base: Logger) {
  type Log = (...args: unknown[]) => void;
  type Level = 'debug' | 'info' | 'warn' | 'error';
  const call = (logger: Logger, level: Level, args: unknown[]) => (logger[level] as Log).apply(logger, args);
  const requestIn = (value: unknown) =>
    typeof value === 'object' && value !== null
      ? ((value as Record<symbol, unknown>)[REQUEST_OF_ERROR] as RequestFields | undefined)
      : undefined;
  // Yoga writes a debug line on every request: nothing is made for a line the level drops.
  const log = (level: Level, args: unknown[]) => {
    if (!base.isLevelEnabled(level)) return;
    call(requestLogger(base, requestIn(args[0]) ?? current.getStore()), level, args);
  };
  return {
    debug: (...args: unknown[]) => log('debug', args),
    info: (...args: unknown[]) => log('info', args),
    warn: (...args: unknown[]) => log('warn', args),
    error: (...args: unknown[]) => log('error', args),
  };
}

/** Pages outside the REST route map, as metric labels; any other unmapped path is "unmatched". */
const PAGES = new Set(['/', '/graphql', ...Object.values(OPERATIONS_PATHS), '/openapi.json', '/docs', '/favicon.ico']);
/** Folders of static files, each one label: `/docs/swagger-ui.css` counts as `/docs`. */
const FILE_FOLDERS = ['/docs', '/graphiql'];
const pageOf = (path: string) =>
  PAGES.has(path) ? path : (FILE_FOLDERS.find((folder) => path.startsWith(`${folder}/`)) ?? 'unmatched');

/** The one line logged per response, its metrics, and the end of its span. */
export function logResponse(
  logger: Logger,
  metrics: Pick<Metrics, 'observeResponse'>,
  fields: RequestFields,
  status: number,
): void {
  const seconds = (performance.now() - fields.started) / 1000;
  const duration_ms = Math.round(seconds * 10_000) / 10;
  const line = fields.operation ? { status, duration_ms, operation: fields.operation } : { status, duration_ms };
  logger.info({ ...bindingsOf(fields), ...line }, 'request');
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
  /** Also in an async context of its own (see inRequest). */
  propagate: boolean,
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
        return inRequest(request, fields, propagate, wrapped);
      },
    },
    onResponse({ request, response }) {
      const fields = requestOf(request);
      if (!fields) return;
      response.headers.set('x-request-id', fields.req_id);
      logResponse(logger, metrics, fields, response.status);
    },
  };
}
