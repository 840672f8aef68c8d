import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { HTTP_STATUS_BY_CODE } from '../graphql/errors';
import { BodyError, CLOSE, codeOf } from '../http/body';
import { detailResponse, errorResponse } from '../http/respond';
import {
  canonicalRequest,
  checkMediaType,
  InputError,
  isCanonical,
  type Query,
  readArguments,
  readQuery,
} from './arguments';
import { type CompiledRoute, shapedDocument } from './compile';

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

/**
 * Serves the REST route map through SOFA. Before SOFA, it answers everything that is not a
 * mapped route (404/405), checks arguments strictly (422) and normalises the path. During
 * execution, it swaps SOFA's select-everything operation for the route's declared selection.
 */
export function useRestRoutes(
  routes: readonly CompiledRoute[],
  { graphqlEndpoint, maxBodyBytes }: { graphqlEndpoint: string; maxBodyBytes: number },
): Plugin {
  const routeOf = new WeakMap<Request, CompiledRoute>();
  const shaped = new WeakMap<DocumentNode, DocumentNode>();

  return {
    async onRequest({ request, url, setRequest, endResponse }) {
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
      let query: Query;
      try {
        checkMediaType(hit.route, request);
        query = readQuery(url);
        values = await readArguments(hit.route, request, query, hit.match, maxBodyBytes);
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
      // A GET already in canonical form (its path as routed, only checked arguments in the query)
      // goes to SOFA as it is: building a new Request costs more than the rest of this check.
      if (!hit.route.hasBody && request.method === hit.route.method && isCanonical(url, query, hit.path, values)) {
        routeOf.set(request, hit.route);
        return;
      }
      const canonical = canonicalRequest(hit.route, request, hit.path, values);
      routeOf.set(canonical, hit.route);
      setRequest(canonical);
    },
    async onResponse({ request, response, setResponse }) {
      // SOFA answers JSON; a download route turns its {filename, content_type, content} into the file.
      const route = routeOf.get(request);
      if (!route?.download || response.status !== 200) return;
      const file = (await response.json()) as { filename: string; content_type: string; content: string };
      const headers = new Headers(response.headers);
      headers.delete('content-length');
      headers.set('content-type', file.content_type);
      headers.set('content-disposition', `attachment; filename="${file.filename}"`);
      setResponse(new Response(file.content, { headers }));
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const request = (args.contextValue as { request: Request }).request;
      const route = routeOf.get(request);
      if (!route) {
        if (new URL(request.url).pathname === graphqlEndpoint) return;
        // Fail closed: SOFA's own operation would select every field, relations and emails included.
        throw new Error(`REST execution without a mapped route: ${request.method} ${request.url}`);
      }
      setExecuteFn((execArgs) => {
        let document = shaped.get(execArgs.document);
        if (!document) {
          document = shapedDocument(route, execArgs.document);
          shaped.set(execArgs.document, document);
        }
        return executeFn({ ...execArgs, document });
      });
    },
  };
}
