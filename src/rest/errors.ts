import type { GraphQLError } from 'graphql';
import { isDatabaseUnavailable } from '../db/errors';
import { databaseUnavailable, HTTP_STATUS_BY_CODE, httpStatusOf, RETRY_AFTER_SECONDS } from '../graphql/errors';
import { type Logger, requestLogger } from '../http/logging';
import { detailResponse } from '../http/respond';

/**
 * A REST route's errors as one HTTP answer: the first error decides. An error without a code that
 * Yoga marks as the request's fault (`extensions.http.status` 400, e.g. a variable the executor
 * could not coerce) answers 422 like the rest of the input errors. Anything without a known code
 * was masked by Yoga (and logged) and answers a bare 500.
 */
export function restErrorHandler(options: { bearer: boolean; logger: Logger }) {
  return (errors: ReadonlyArray<unknown>, request?: Request): Response => {
    const error = errors[0] as Partial<GraphQLError> | undefined;
    // E.g. an API key looked up while building the context, which fails before execution.
    if (isDatabaseUnavailable(error)) {
      return detailResponse(HTTP_STATUS_BY_CODE.SERVICE_UNAVAILABLE, databaseUnavailable().message, {
        'retry-after': String(RETRY_AFTER_SECONDS),
      });
    }
    const extensions = (error?.extensions ?? {}) as {
      code?: unknown;
      http?: { status?: number };
      unexpected?: boolean;
      retry_after?: unknown;
    };
    if (extensions.code === undefined && extensions.http?.status === 400) {
      return detailResponse(HTTP_STATUS_BY_CODE.BAD_USER_INPUT, String(error?.message));
    }
    const status = httpStatusOf(extensions.code);
    if (status === 401 && options.bearer) {
      return detailResponse(status, String(error?.message), { 'www-authenticate': 'Bearer' });
    }
    if (status === 503) {
      // Expected, and worth retrying later: the database is unreachable, or a deadline passed.
      return detailResponse(status, String(error?.message), { 'retry-after': String(RETRY_AFTER_SECONDS) });
    }
    if (status >= 500) {
      // Yoga already logged what it masked; anything else failed outside execution.
      if (!extensions.unexpected) requestLogger(options.logger, request).error(error, 'REST request failed');
      return detailResponse(status, 'Internal Server Error');
    }
    if (typeof extensions.retry_after === 'number') {
      return detailResponse(status, String(error?.message), { 'retry-after': String(extensions.retry_after) });
    }
    return detailResponse(status, String(error?.message));
  };
}
