import { type ErrorCode, HTTP_STATUS_BY_CODE } from '../graphql/errors';

/** The REST API's error body: `{"detail": "..."}`. */
export function detailResponse(status: number, detail: string, headers: Record<string, string> = {}): Response {
  return Response.json({ detail }, { status, headers });
}

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
