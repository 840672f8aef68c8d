import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import pino from 'pino';
import type { LogLevel } from '../config';

type RequestFields = { req_id: string; method: string; path: string; started: number };

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

/** Gives every request an id (the caller's `X-Request-Id` if sane) and logs one line per response. */
export function useRequestLogging(logger: Logger): Plugin {
  return {
    instrumentation: {
      request: ({ request }, wrapped) => {
        const given = request.headers.get('x-request-id');
        const fields = {
          req_id: given && REQUEST_ID.test(given) ? given : randomUUID(),
          method: request.method,
          path: new URL(request.url).pathname,
          started: performance.now(),
        };
        return current.run(fields, wrapped);
      },
    },
    onResponse({ response }) {
      const fields = current.getStore();
      if (!fields) return;
      response.headers.set('x-request-id', fields.req_id);
      const duration_ms = Math.round((performance.now() - fields.started) * 10) / 10;
      logger.info({ status: response.status, duration_ms }, 'request');
    },
  };
}
