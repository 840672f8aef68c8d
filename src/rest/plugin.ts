import type { Plugin } from 'graphql-yoga';
import { requestOf } from '../http/logging';
import type { CompiledRoute } from './compile';
import {
  answerHeaders,
  type GetEnveloped,
  matchPath,
  noRouteResponse,
  routeArguments,
  routeFor,
  runRoute,
} from './execute';

/**
 * Serves the REST route map inside Yoga, for every request the Node fast path (node-path.ts)
 * does not take: it answers everything that is not a mapped route (404/405), checks arguments
 * strictly (422), then runs the route's own operation (execute.ts) and answers the root field's
 * value as JSON.
 */
export function useRestRoutes(
  routes: readonly CompiledRoute[],
  {
    graphqlEndpoint,
    maxBodyBytes,
    onErrors,
    onGetEnveloped,
  }: {
    graphqlEndpoint: string;
    maxBodyBytes: number;
    onErrors: (errors: readonly unknown[], request?: Request) => Response;
    /** Hands over Yoga's execution pipeline once Yoga is built, for the Node fast path. */
    onGetEnveloped?: (getEnveloped: GetEnveloped) => void;
  },
): Plugin {
  let getEnveloped: GetEnveloped | undefined;
  return {
    onYogaInit({ yoga }) {
      getEnveloped = yoga.getEnveloped as GetEnveloped;
      onGetEnveloped?.(getEnveloped);
    },
    async onRequest({ request, url, serverContext, fetchAPI, endResponse }) {
      if (url.pathname === graphqlEndpoint) return;
      const found = matchPath(routes, url.pathname);
      const hit = routeFor(found, request.method);
      if (!hit) return endResponse(noRouteResponse(found));
      const served = requestOf(request);
      if (served) served.route = hit.route.path;
      const read = await routeArguments(hit, request, url, maxBodyBytes);
      if ('refused' in read) return endResponse(read.refused);
      if (!getEnveloped) throw new Error('REST routes served before Yoga started');
      // The server's context (Node's req/res) with the request, as Yoga builds it for /graphql.
      const initial = Object.assign(serverContext as Record<string, unknown>, { request });
      const answer = await runRoute(hit.route, read.values, initial, getEnveloped, onErrors);
      if (answer.kind === 'error') return endResponse(answer.response);
      const body = answer.kind === 'json' ? answer.body : answer.file.content;
      endResponse(new fetchAPI.Response(body, { headers: answerHeaders(answer, hit.route) }));
    },
  };
}
