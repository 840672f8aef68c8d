import { GraphQLError } from 'graphql';
import { config } from '../config';
import { isDatabaseUnavailable } from '../db/errors';
import { logger } from '../http/logging';

/**
 * Every expected failure has a code. On /graphql it travels as `extensions.code` (HTTP 200);
 * on REST this table turns it into the status of a `{"detail": ...}` response.
 */
export const HTTP_STATUS_BY_CODE = {
  BAD_REQUEST: 400,
  BAD_USER_INPUT: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  /** A subscriber fell too far behind its events; only ever sent as a stream's last event. */
  SUBSCRIBER_TOO_SLOW: 429,
  INTERNAL_SERVER_ERROR: 500,
  /** A dependency the request needs (the database) cannot be reached: retry later. */
  SERVICE_UNAVAILABLE: 503,
  /** A query ran past REQUEST_DEADLINE_MS (src/graphql/deadline.ts). */
  DEADLINE_EXCEEDED: 503,
} as const;

export type ErrorCode = keyof typeof HTTP_STATUS_BY_CODE;

export class AppError extends GraphQLError {
  readonly code: ErrorCode;

  /**
   * `http` makes the status (and headers) of the code apply on /graphql too, for the few
   * refusals that happen before any result exists (a subscription over the stream caps).
   */
  constructor(code: ErrorCode, message: string, options: { http?: { headers?: Record<string, string> } } = {}) {
    const http = options.http ? { http: { status: HTTP_STATUS_BY_CODE[code], headers: options.http.headers } } : {};
    super(message, { extensions: { code, ...http } });
    this.code = code;
  }
}

export const badInput = (message: string) => new AppError('BAD_USER_INPUT', message);
export const notFound = (message: string) => new AppError('NOT_FOUND', message);
export const forbidden = (message: string) => new AppError('FORBIDDEN', message);

/** The same answer for a missing chat and someone else's, so ids of other users' chats do not leak. */
export const chatNotFound = (chatId: number) => notFound(`Chat with ID ${chatId} not found or access denied`);

/** Said to clients while the database cannot be reached (REST 503, GraphQL SERVICE_UNAVAILABLE). */
export const databaseUnavailable = () =>
  new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; try again in a few seconds');

/** How long a client should wait before retrying a 503, in seconds. */
export const RETRY_AFTER_SECONDS = 5;

export function httpStatusOf(code: unknown): number {
  return typeof code === 'string' && code in HTTP_STATUS_BY_CODE
    ? HTTP_STATUS_BY_CODE[code as ErrorCode]
    : HTTP_STATUS_BY_CODE.INTERNAL_SERVER_ERROR;
}

export function detailResponse(status: number, detail: string, headers: Record<string, string> = {}): Response {
  return Response.json({ detail }, { status, headers });
}

/**
 * SOFA's `errorHandler`: the first error decides. Errors SOFA raises itself while reading the
 * request (bad JSON, a value it cannot coerce) carry `extensions.http.status` 400 and are the
 * caller's fault, so they answer 422 like the rest of the input errors. Anything without a known
 * code was masked by Yoga (and logged) and answers a bare 500.
 */
export function restErrorResponse(errors: ReadonlyArray<unknown>): Response {
  const error = errors[0] as Partial<GraphQLError> | undefined;
  // E.g. an API key looked up while building the context, which SOFA reports as it is.
  if (isDatabaseUnavailable(error)) {
    return detailResponse(HTTP_STATUS_BY_CODE.SERVICE_UNAVAILABLE, databaseUnavailable().message, {
      'retry-after': String(RETRY_AFTER_SECONDS),
    });
  }
  const extensions = (error?.extensions ?? {}) as { code?: unknown; http?: { status?: number }; unexpected?: boolean };
  if (extensions.code === undefined && extensions.http?.status === 400) {
    return detailResponse(HTTP_STATUS_BY_CODE.BAD_USER_INPUT, String(error?.message));
  }
  const status = httpStatusOf(extensions.code);
  if (status === 401 && config.auth.mode === 'jwt') {
    return detailResponse(status, String(error?.message), { 'www-authenticate': 'Bearer' });
  }
  if (status === 503) {
    // Expected, and worth retrying later: the database is unreachable, or a deadline passed.
    return detailResponse(status, String(error?.message), { 'retry-after': String(RETRY_AFTER_SECONDS) });
  }
  if (status >= 500) {
    // Yoga already logged what it masked; anything else failed outside execution.
    if (!extensions.unexpected) logger.error(error, 'REST request failed');
    return detailResponse(status, 'Internal Server Error');
  }
  return detailResponse(status, String(error?.message));
}
