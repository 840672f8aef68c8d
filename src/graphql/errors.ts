import { GraphQLError } from 'graphql';

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
  /** A budget on the usage ledger is spent (src/modules/budgets); `retry_after` says until when. */
  BUDGET_EXCEEDED: 429,
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
  constructor(
    code: ErrorCode,
    message: string,
    options: { http?: { headers?: Record<string, string> }; extensions?: Record<string, unknown> } = {},
  ) {
    const http = options.http ? { http: { status: HTTP_STATUS_BY_CODE[code], headers: options.http.headers } } : {};
    // `retry_after` (seconds), when given, is sent on REST as the Retry-After header too.
    super(message, { extensions: { ...options.extensions, code, ...http } });
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
