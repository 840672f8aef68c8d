import { detailResponse, type ErrorCode, HTTP_STATUS_BY_CODE } from '../graphql/errors';

/**
 * An error the HTTP layer answers before GraphQL runs, with its status from the one code table:
 * on /graphql a GraphQL-shaped body (`errors[0].extensions.code`), elsewhere `{"detail": ...}`.
 */
export function errorResponse(
  graphql: boolean,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const status = HTTP_STATUS_BY_CODE[code];
  if (!graphql) return detailResponse(status, message, headers);
  return Response.json({ errors: [{ message, extensions: { code } }] }, { status, headers });
}
