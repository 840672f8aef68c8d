import type { Auth } from '../auth/identify';
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

/**
 * The answer an admin-only download (the usage and feedback exports, Yoga plugins outside the
 * route map) gives a request it refuses: 405 for other methods, 401 without credentials while
 * authentication is on, 403 for a caller who is not an admin; null when the request may proceed.
 */
export async function refuseDownload(
  options: { auth: Auth; bearer: boolean },
  request: Request,
  serverContext: object,
  forbidden: string,
): Promise<Response | null> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return detailResponse(405, 'Method Not Allowed', { allow: 'GET, HEAD' });
  }
  const caller = await options.auth.identify(request, serverContext);
  if (caller.isAdmin) return null;
  if (options.auth.enabled && !caller.authenticated) {
    const headers: Record<string, string> = options.bearer ? { 'www-authenticate': 'Bearer' } : {};
    return detailResponse(401, caller.failure ?? 'Not authenticated', headers);
  }
  return detailResponse(403, forbidden);
}

/**
 * The headers of a streamed CSV or JSON download: an attachment, sent as it is read, so never
 * compressed (a compressor would hold the whole file) nor cached.
 */
export const downloadHeaders = (format: 'csv' | 'json', filename: string): Record<string, string> => ({
  'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
  'content-disposition': `attachment; filename="${filename}.${format}"`,
  'cache-control': 'no-store, no-transform',
});
