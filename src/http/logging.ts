import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import pino from 'pino';
import type { LogLevel } from '../config';

export type RequestFields = { req_id: string; method: string; path: string; started: number };

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

/** The one line logged per response, inside the request (see inRequest). */
export function logResponse(logger: Logger, fields: RequestFields, status: number): void {
  const duration_ms = Math.round((performance.now() - fields.started) * 10) / 10;
  logger.info({ status, duration_ms }, 'request');
}

/** Gives every request an id (the caller's `X-Request-Id` if sane) and logs one line per response. */
export function useRequestLogging(logger: Logger): Plugin {
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
      logResponse(logger, fields, response.status);
    },
  };
}
