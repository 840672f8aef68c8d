import { createServerAdapter, type ServerAdapterInitialContext } from '@whatwg-node/server';
import { isDatabaseUnavailable } from '../db/errors';
import { databaseUnavailable, RETRY_AFTER_SECONDS } from '../graphql/errors';
import { useCompression } from './compression';
import { type Logger, requestLogger, useRequestLogging } from './logging';
import type { Metrics } from './metrics';
import { errorResponse } from './respond';
import { useSecurityHeaders } from './security';
import type { Tracing } from './tracing';

type Context = Record<string, unknown>;
type App = {
  handleRequest(request: Request, context: Context & ServerAdapterInitialContext): Response | Promise<Response>;
};

/**
 * The answer to an exception that escaped the request's handling: a JSON 500 (GraphQL-shaped on
 * /graphql), logged once with its stack; or a 503 to retry when the database is unreachable.
 */
export function failureResponse(
  error: unknown,
  graphql: boolean,
  { logger, metrics }: { logger: Logger; metrics: Pick<Metrics, 'increment'> },
): Response {
  // E.g. an API key looked up by the rate limiter while the database is down: retry later.
  if (isDatabaseUnavailable(error)) {
    logger.warn({ err: error }, 'database unavailable outside GraphQL execution');
    metrics.increment('database_unavailable_total');
    const { message } = databaseUnavailable();
    return errorResponse(graphql, 'SERVICE_UNAVAILABLE', message, { 'retry-after': String(RETRY_AFTER_SECONDS) });
  }
  logger.error({ err: error }, 'request failed outside GraphQL execution');
  return errorResponse(graphql, 'INTERNAL_SERVER_ERROR', 'Internal Server Error');
}

/**
 * Serves `app` (the configured Yoga) behind one guard. Yoga masks what fails inside GraphQL, but
 * an exception escaping a plugin hook (onRequest, onResponse) reaches @whatwg-node/server, which
 * answers `500 text/plain` with the stack (handleErrorFromRequestHandler), unlogged and without
 * the security headers. Here any such exception becomes a JSON 500 (GraphQL-shaped on
 * `graphqlEndpoint`), logged once with the request's id, method, path and stack. Request logging,
 * the security headers and compression sit in this outer layer so that they cover the guard's
 * answers too.
 */
export function withErrorGuard(
  app: App,
  {
    graphqlEndpoint,
    logger,
    metrics,
    tracing = null,
    propagate = false,
  }: {
    graphqlEndpoint: string;
    logger: Logger;
    metrics: Pick<Metrics, 'increment' | 'observeResponse'>;
    tracing?: Tracing | null;
    /** Each request also in an async context of its own (see inRequest in logging.ts). */
    propagate?: boolean;
  },
) {
  const fail = (request: Request, error: unknown): Response =>
    failureResponse(error, new URL(request.url).pathname === graphqlEndpoint, {
      logger: requestLogger(logger, request),
      metrics,
    });
  return createServerAdapter<Context>(
    (request, context) => {
      try {
        const response = app.handleRequest(request, context);
        if (!('then' in response)) return response;
        return response.then(undefined, (error: unknown) => fail(request, error));
      } catch (error) {
        return fail(request, error);
      }
    },
    // Compression last: it sees the headers every other plugin set.
    { plugins: [useRequestLogging(logger, metrics, tracing, propagate), useSecurityHeaders(), useCompression()] },
  );
}
