import type { ExecutionResult } from 'graphql';
import type { FetchAPI, Plugin, YogaServerInstance } from 'graphql-yoga';
import { HTTP_STATUS_BY_CODE } from '../graphql/errors';
import { BodyError, CLOSE, codeOf } from '../http/body';
import { detailResponse, errorResponse } from '../http/respond';
import { checkMediaType, InputError, readArguments, readQuery } from './arguments';
import type { CompiledRoute } from './compile';

type Match = { route: CompiledRoute; match: RegExpMatchArray; path: string };

/**
 * The routes whose path matches (`/chats` counts as `/chats/`). A fixed path beats a pattern:
 * `/chats/users` is never `/chats/:chat_id`, whatever the method.
 */
function matchPath(routes: readonly CompiledRoute[], pathname: string): Match[] {
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

type Enveloped = ReturnType<YogaServerInstance<Record<string, unknown>, Record<string, unknown>>['getEnveloped']>;

/**
 * Serves the REST route map. It answers everything that is not a mapped route (404/405), checks
 * arguments strictly (422), then runs the route's own operation, parsed and validated once at
 * start-up (compile.ts), through Yoga's execution pipeline (so the context, error masking and the
 * deadline are the same as on /graphql), and answers the root field's value as JSON. Errors go
 * through `onErrors`, which maps their codes to HTTP statuses.
 */
export function useRestRoutes(
  routes: readonly CompiledRoute[],
  {
    graphqlEndpoint,
    maxBodyBytes,
    onErrors,
  }: { graphqlEndpoint: string; maxBodyBytes: number; onErrors: (errors: readonly unknown[]) => Response },
): Plugin {
  let getEnveloped: ((initial: Record<string, unknown>) => Enveloped) | undefined;

  const execute = async (
    route: CompiledRoute,
    variableValues: Record<string, unknown>,
    initial: Record<string, unknown>,
    fetchAPI: FetchAPI,
  ): Promise<Response> => {
    if (!getEnveloped) throw new Error('REST routes served before Yoga started');
    try {
      const enveloped = getEnveloped(initial);
      const contextValue = await enveloped.contextFactory(initial);
      const result = (await enveloped.execute({
        schema: enveloped.schema,
        document: route.document,
        contextValue,
        variableValues,
        operationName: route.fieldName,
      })) as ExecutionResult;
      if (result.errors) return onErrors(result.errors);
      const value = result.data?.[route.fieldName];
      if (route.download) return download(value as DownloadedFile, fetchAPI);
      return fetchAPI.Response.json(value);
    } catch (error) {
      // E.g. a credential refused while the context is built.
      return onErrors([error]);
    }
  };

  return {
    onYogaInit({ yoga }) {
      getEnveloped = yoga.getEnveloped as typeof getEnveloped;
    },
    async onRequest({ request, url, serverContext, fetchAPI, endResponse }) {
      if (url.pathname === graphqlEndpoint) return;
      const found = matchPath(routes, url.pathname);
      // HEAD is GET without the body (Node's HTTP server drops it).
      const method = request.method === 'HEAD' ? 'GET' : request.method;
      const hit = found.find((f) => f.route.method === method);
      if (!hit) {
        const allowed: string[] = [...new Set(found.map((f) => f.route.method))];
        if (allowed.length === 0) return endResponse(detailResponse(HTTP_STATUS_BY_CODE.NOT_FOUND, 'Not Found'));
        if (allowed.includes('GET')) allowed.push('HEAD');
        return endResponse(
          detailResponse(HTTP_STATUS_BY_CODE.METHOD_NOT_ALLOWED, 'Method Not Allowed', { allow: allowed.join(', ') }),
        );
      }
      let values: Record<string, unknown>;
      try {
        checkMediaType(hit.route, request);
        values = await readArguments(hit.route, request, readQuery(url), hit.match, maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyError) {
          const headers = error.problem === 'too-large' ? CLOSE : undefined;
          return endResponse(errorResponse(false, codeOf(error.problem, 'rest'), error.message, headers));
        }
        if (error instanceof InputError) {
          return endResponse(detailResponse(HTTP_STATUS_BY_CODE.BAD_USER_INPUT, error.message));
        }
        throw error;
      }
      // The server's context (Node's req/res) with the request, as Yoga builds it for /graphql.
      const initial = Object.assign(serverContext as Record<string, unknown>, { request });
      endResponse(await execute(hit.route, values, initial, fetchAPI));
    },
  };
}

type DownloadedFile = { filename: string; content_type: string; content: string };

/** A download route's field returns `{filename, content_type, content}`: the answer is that file. */
function download(file: DownloadedFile, fetchAPI: FetchAPI): Response {
  return new fetchAPI.Response(file.content, {
    headers: {
      'content-type': file.content_type,
      'content-disposition': `attachment; filename="${file.filename}"`,
    },
  });
}
