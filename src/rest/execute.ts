import type { ExecutionResult } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Context } from '../graphql/context';
import { HTTP_STATUS_BY_CODE } from '../graphql/errors';
import { BodyError, type BodyReader, CLOSE, codeOf, readBody } from '../http/body';
import { detailResponse, errorResponse } from '../http/respond';
import { checkMediaType, InputError, readArguments, readQuery } from './arguments';
import type { CompiledRoute } from './compile';
import { hasDirectRead, readDirectly } from './direct';

/*
 * What serving a REST route takes, whichever HTTP layer the request came through (the Yoga plugin
 * in plugin.ts, or the Node fast path in node-path.ts): matching, reading the arguments, running
 * the route's operation and turning its result into an answer.
 */

export type Match = { route: CompiledRoute; match: RegExpMatchArray; path: string };

/**
 * The routes whose path matches (`/chats` counts as `/chats/`). A fixed path beats a pattern:
 * `/chats/users` is never `/chats/:chat_id`, whatever the method.
 */
export function matchPath(routes: readonly CompiledRoute[], pathname: string): Match[] {
  const paths = pathname.endsWith('/') ? [pathname] : [pathname, `${pathname}/`];
  const found: Match[] = [];
  for (const path of paths) {
    for (const route of routes) {
      const match = path.match(route.pattern);
      if (match) found.push({ route, match, path });
    }
  }
  const fixed = found.filter((f) => f.route.pathParams.length === 0);
  return fixed.length > 0 ? fixed : found;
}

/** The route serving this method (HEAD is GET without the body, which Node's server drops). */
export function routeFor(found: readonly Match[], method: string): Match | undefined {
  const wanted = method === 'HEAD' ? 'GET' : method;
  return found.find((f) => f.route.method === wanted);
}

/** The answer to a path no route serves with this method: 404, or 405 with `Allow`. */
export function noRouteResponse(found: readonly Match[]): Response {
  const allowed: string[] = [...new Set(found.map((f) => f.route.method))];
  if (allowed.length === 0) return detailResponse(HTTP_STATUS_BY_CODE.NOT_FOUND, 'Not Found');
  if (allowed.includes('GET')) allowed.push('HEAD');
  return detailResponse(HTTP_STATUS_BY_CODE.METHOD_NOT_ALLOWED, 'Method Not Allowed', { allow: allowed.join(', ') });
}

/**
 * The route's arguments from the request, checked against their GraphQL types; or, when they are
 * refused, the 4xx answer. The body is read from the request, unless `readBytes` reads it from
 * where it still is (Node's request, on the fast path).
 */
export async function routeArguments(
  hit: Match,
  request: Request,
  url: URL,
  maxBodyBytes: number,
  readBytes: BodyReader = (limit) => readBody(request, limit),
): Promise<{ values: Record<string, unknown> } | { refused: Response }> {
  try {
    checkMediaType(hit.route, request);
    return { values: await readArguments(hit.route, request, readBytes, readQuery(url), hit.match, maxBodyBytes) };
  } catch (error) {
    if (error instanceof BodyError) {
      const headers = error.problem === 'too-large' ? CLOSE : undefined;
      return { refused: errorResponse(false, codeOf(error.problem, 'rest'), error.message, headers) };
    }
    if (error instanceof InputError) {
      return { refused: detailResponse(HTTP_STATUS_BY_CODE.BAD_USER_INPUT, error.message) };
    }
    throw error;
  }
}

type DownloadedFile = { filename: string; content_type: string; content: string };

/** How a route answered: its JSON, a file (download routes), or an error already made an HTTP answer. */
export type RouteAnswer =
  | { kind: 'json'; body: string }
  | { kind: 'file'; file: DownloadedFile }
  | { kind: 'error'; response: Response };

export type GetEnveloped = YogaServerInstance<Record<string, unknown>, Record<string, unknown>>['getEnveloped'];

/**
 * Runs a route's operation, parsed and validated once at start-up (compile.ts), with the checked
 * arguments as its variables, through Yoga's execution pipeline: the same context, error masking
 * and deadline as /graphql. `initial` is the server context (Node's req/res) with the request.
 * Errors go through `onErrors`, which maps their codes to HTTP statuses (and logs, with the request,
 * what it must).
 */
export async function runRoute(
  route: CompiledRoute,
  variableValues: Record<string, unknown>,
  initial: Record<string, unknown>,
  getEnveloped: GetEnveloped,
  onErrors: (errors: readonly unknown[], request?: Request) => Response,
): Promise<RouteAnswer> {
  const request = initial.request as Request | undefined;
  try {
    const enveloped = getEnveloped(initial);
    const contextValue = await enveloped.contextFactory(initial);
    // The two hottest reads are answered from SQL when they can be (direct.ts), the same answer.
    if (hasDirectRead(route)) {
      const body = await readDirectly(route, contextValue as unknown as Context, variableValues);
      if (body !== undefined) return { kind: 'json', body };
    }
    const result = (await enveloped.execute({
      schema: enveloped.schema,
      document: route.document,
      contextValue,
      variableValues,
      operationName: route.fieldName,
    })) as ExecutionResult;
    if (result.errors) return { kind: 'error', response: onErrors(result.errors, request) };
    const value = result.data?.[route.fieldName];
    if (route.download) return { kind: 'file', file: value as DownloadedFile };
    return { kind: 'json', body: JSON.stringify(value ?? null) };
  } catch (error) {
    // E.g. a credential refused while the context is built.
    return { kind: 'error', response: onErrors([error], request) };
  }
}

/** The headers of a successful answer (the security headers are added by each HTTP layer). */
export function answerHeaders(
  answer: Exclude<RouteAnswer, { kind: 'error' }>,
  route: Pick<CompiledRoute, 'cacheControl'>,
): Record<string, string> {
  const cache: Record<string, string> = route.cacheControl ? { 'cache-control': route.cacheControl } : {};
  if (answer.kind === 'json') return { 'content-type': 'application/json; charset=utf-8', ...cache };
  return {
    'content-type': answer.file.content_type,
    'content-disposition': `attachment; filename="${answer.file.filename}"`,
    ...cache,
  };
}
