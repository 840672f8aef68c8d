import type { Plugin } from 'graphql-yoga';
import type { Context, Services } from '../../graphql/context';
import { AppError } from '../../graphql/errors';
import { BodyError, CLOSE, codeOf, decodeUtf8, mediaTypeOf, readBody } from '../../http/body';
import { currentRequest } from '../../http/logging';
import { detailResponse, errorResponse } from '../../http/respond';
import { importChats, importOwner } from './service';

/*
 * POST /chats/import: an HTTP route of its own rather than a route of the REST map (routes.ts),
 * because its body is the file itself (not an object of arguments) and may be far larger than
 * MAX_BODY_BYTES: it is read here, counted as it streams in, up to IMPORT_MAX_BYTES. The body is
 * then parsed whole (JSON.parse): see the README for the memory that takes.
 */

export const IMPORT_PATH = '/chats/import';

/** The query string's `user_id`, checked as the REST routes check an Int. */
function userIdParameter(url: URL): number | undefined {
  for (const name of url.searchParams.keys()) {
    if (name !== 'user_id') throw new AppError('BAD_USER_INPUT', `${name.slice(0, 40)}: unknown parameter`);
  }
  const values = url.searchParams.getAll('user_id');
  if (values.length === 0) return undefined;
  const text = values[0] as string;
  if (values.length > 1) throw new AppError('BAD_USER_INPUT', 'user_id: given more than once');
  if (!/^\d{1,10}$/.test(text) || Number(text) > 2 ** 31 - 1) {
    throw new AppError('BAD_USER_INPUT', 'user_id: must be a 32-bit integer');
  }
  return Number(text);
}

async function readJson(request: Request, limit: number): Promise<unknown> {
  if (mediaTypeOf(request) !== 'application/json') {
    throw new BodyError('media-type', 'Content-Type must be application/json');
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBody(request, limit);
  } catch (error) {
    if (error instanceof BodyError && error.problem === 'too-large') {
      throw new BodyError(
        'too-large',
        `Request body too large: an import is at most ${limit} bytes (IMPORT_MAX_BYTES)`,
      );
    }
    throw error;
  }
  const text = decodeUtf8(bytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyError('not-json', 'The request body is not valid JSON');
  }
}

/** The import route, as a Yoga plugin (placed before the REST routes, which would answer 405). */
export function useChatImport(services: Services): Plugin {
  const { auth, config } = services;
  return {
    async onRequest({ request, url, serverContext, endResponse }) {
      // Other methods are left to the REST routes, which answer them as GET/PUT/DELETE /chats/{chat_id}
      // (422: not an ID), the same whether Yoga or the Node fast path serves them.
      if (url.pathname !== IMPORT_PATH || request.method !== 'POST') return;
      const served = currentRequest();
      if (served) served.route = IMPORT_PATH;
      // Who is calling, before a byte of a possibly large body is read.
      const ctx: Context = { ...services, ...(await auth.identify(request, serverContext)) };
      if (auth.enabled && !ctx.authenticated) {
        const headers: Record<string, string> = auth.mode === 'jwt' ? { 'www-authenticate': 'Bearer' } : {};
        return endResponse(detailResponse(401, ctx.failure ?? 'Not authenticated', headers));
      }
      try {
        const owner = await importOwner(ctx, userIdParameter(url));
        const value = await readJson(request, config.importMaxBytes);
        const result = await importChats(ctx, owner, value);
        return endResponse(
          new Response(JSON.stringify(result), { headers: { 'content-type': 'application/json; charset=utf-8' } }),
        );
      } catch (error) {
        if (error instanceof BodyError) {
          const headers = error.problem === 'too-large' ? CLOSE : undefined;
          return endResponse(errorResponse(false, codeOf(error.problem, 'rest'), error.message, headers));
        }
        if (error instanceof AppError) return endResponse(errorResponse(false, error.code, error.message));
        throw error;
      }
    },
  };
}
