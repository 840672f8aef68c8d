import { GraphQLError } from 'graphql';
import { config } from './config';
import { logger } from './logger';

/**
 * Every expected failure has a code. On /graphql it travels as `extensions.code` (HTTP 200);
 * on REST this table turns it into the status of a `{"detail": ...}` response.
 */
export const HTTP_STATUS_BY_CODE = {
  BAD_USER_INPUT: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL_SERVER_ERROR: 500,
  /** A query ran past REQUEST_DEADLINE_MS (src/graphql/deadline.ts). */
  DEADLINE_EXCEEDED: 503,
} as const;

export type ErrorCode = keyof typeof HTTP_STATUS_BY_CODE;

export class AppError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message, { extensions: { code } });
    this.code = code;
  }
}

export const badInput = (message: string) => new AppError('BAD_USER_INPUT', message);
export const notFound = (message: string) => new AppError('NOT_FOUND', message);
export const forbidden = (message: string) => new AppError('FORBIDDEN', message);

/** The same answer for a missing chat and someone else's, so ids of other users' chats do not leak. */
export const chatNotFound = (chatId: number) => notFound(`Chat with ID ${chatId} not found or access denied`);

/** What a 503 tells clients to wait before trying again. */
const RETRY_AFTER_SECONDS = '5';

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
  const extensions = (error?.extensions ?? {}) as { code?: unknown; http?: { status?: number }; unexpected?: boolean };
  if (extensions.code === undefined && extensions.http?.status === 400) {
    return detailResponse(HTTP_STATUS_BY_CODE.BAD_USER_INPUT, String(error?.message));
  }
  const status = httpStatusOf(extensions.code);
  if (status === 401 && config.auth.mode === 'jwt') {
    return detailResponse(status, String(error?.message), { 'www-authenticate': 'Bearer' });
  }
  if (status === 503) {
    // Expected, and worth retrying later (e.g. a deadline passed while the server was busy).
    return detailResponse(status, String(error?.message), { 'retry-after': RETRY_AFTER_SECONDS });
  }
  if (status >= 500) {
    // Yoga already logged what it masked; anything else failed outside execution.
    if (!extensions.unexpected) logger.error(error, 'REST request failed');
    return detailResponse(status, 'Internal Server Error');
  }
  return detailResponse(status, String(error?.message));
}
