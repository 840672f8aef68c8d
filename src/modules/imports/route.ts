import type { Plugin } from 'graphql-yoga';
import type { Context, Services } from '../../graphql/context';
import { AppError } from '../../graphql/errors';
import { BodyError, CLOSE, codeOf, mediaTypeOf } from '../../http/body';
import { requestOf } from '../../http/logging';
import { detailResponse, errorResponse } from '../../http/respond';
import { emptyPlan, importOwner, limitsOf, planConversation, planImport, writeImport } from './service';
import { readJsonItems } from './stream';

/*
 * POST /chats/import: an HTTP route of its own rather than a route of the REST map (routes.ts),
 * because its body is the file itself (not an object of arguments) and may be far larger than
 * MAX_BODY_BYTES: it is read here, counted as it streams in, up to IMPORT_MAX_BYTES, and a ChatGPT
 * export (an array) is checked a conversation at a time as it arrives (stream.ts).
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

/**
 * The plan of the body, checked as it streams in: a ChatGPT export (an array) a conversation at a
 * time, so that only the rows to write are kept, not the file or its parsed objects.
 */
async function planBody(request: Request, ctx: Context) {
  if (mediaTypeOf(request) !== 'application/json') {
    throw new BodyError('media-type', 'Content-Type must be application/json');
  }
  const limit = ctx.config.importMaxBytes;
  const tooLarge = () =>
    new BodyError('too-large', `Request body too large: an import is at most ${limit} bytes (IMPORT_MAX_BYTES)`);
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw tooLarge();
  const plan = emptyPlan();
  const limits = limitsOf(ctx);
  const now = Date.now();
  try {
    const read = await readJsonItems(request.body, limit, (item, i) =>
      planConversation(plan, item, `conversations[${i}]`, limits, now),
    );
    return 'whole' in read ? planImport(read.whole, limits) : plan;
  } catch (error) {
    if (error instanceof BodyError && error.problem === 'too-large') throw tooLarge();
    throw error;
  }
}

/** The import route, as a Yoga plugin (placed before the REST routes, which would answer 405). */
export function useChatImport(services: Services): Plugin {
  const { auth } = services;
  return {
    async onRequest({ request, url, serverContext, endResponse }) {
      // Other methods are left to the REST routes, which answer them as GET/PUT/DELETE /chats/{chat_id}
      // (422: not an ID), the same whether Yoga or the Node fast path serves them.
      if (url.pathname !== IMPORT_PATH || request.method !== 'POST') return;
      const served = requestOf(request);
      if (served) served.route = IMPORT_PATH;
      // Who is calling, before a byte of a possibly large body is read.
      const ctx: Context = { ...services, ...(await auth.identify(request, serverContext)) };
      if (auth.enabled && !ctx.authenticated) {
        const headers: Record<string, string> = auth.mode === 'jwt' ? { 'www-authenticate': 'Bearer' } : {};
        return endResponse(detailResponse(401, ctx.failure ?? 'Not authenticated', headers));
      }
      try {
        const owner = await importOwner(ctx, userIdParameter(url));
        const result = await writeImport(ctx, owner, await planBody(request, ctx));
        return endResponse(
          new Response(JSON.stringify(result), { headers: { 'content-type': 'application/json; charset=utf-8' } }),
        );
      } catch (error) {
        // A refusal may come before the end of a large body: the connection is closed rather than
        // kept for bytes nobody will read.
        if (error instanceof BodyError) {
          return endResponse(errorResponse(false, codeOf(error.problem, 'rest'), error.message, CLOSE));
        }
        if (error instanceof AppError) return endResponse(errorResponse(false, error.code, error.message, CLOSE));
        throw error;
      }
    },
  };
}
