import type { IncomingMessage, ServerResponse } from 'node:http';
import { readNodeBody } from '../http/body';
import type { RequestFields } from '../http/logging';
import { type NodeAnswers, nodeRequestFields, requestUrl, toRequest } from '../http/node-answer';
import type { CompiledRoute } from './compile';
import { answerHeaders, type GetEnveloped, type Match, matchPath, routeArguments, routeFor, runRoute } from './execute';

/*
 * The REST routes served straight from Node's HTTP server, without the fetch-API Response and the
 * plugin chain that Yoga runs for every request: about 12% of a chat read's CPU (measured in
 * bench/README.md, "Changes measured"). The answers are the same as through
 * Yoga (test/rest/node-path.test.ts sends the same requests both ways and compares them); only
 * requests for which nothing in Yoga's chain could matter are taken here:
 *
 *  - a mapped route with its method: anything else (404, 405, /graphql, /docs, /health...) goes to Yoga;
 *  - no `Origin` and no `Sec-Fetch-Site` header: browsers' requests get Yoga's CORS and
 *    cross-site write checks, so this path never needs them;
 *  - CORS_ORIGINS unset and RATE_LIMIT_PER_MINUTE=0 (the gateway does not build this path otherwise);
 *  - the gateway not closed (a closed gateway answers 503 from Yoga's health plugin).
 *
 * What Yoga's outer layer does for every answer is done here too, by http/node-answer.ts.
 */

export type NodeRestPath = {
  /** Serves the request and answers true, or answers false (and touches nothing) for Yoga to serve it. */
  take(req: IncomingMessage, res: ServerResponse): boolean;
  /** Requests served here, for tests and metrics. */
  readonly stats: { served: number };
};

export function createNodeRestPath(options: {
  routes: readonly CompiledRoute[];
  maxBodyBytes: number;
  onErrors: (errors: readonly unknown[], request?: Request) => Response;
  /** Yoga's execution pipeline, once Yoga is built. */
  getEnveloped: () => GetEnveloped | undefined;
  /** True once the gateway is closed: Yoga's health plugin answers every request 503. */
  closed: () => boolean;
  answers: NodeAnswers;
}): NodeRestPath {
  const stats = { served: 0 };
  const { answers } = options;

  /** The request, if this path serves it: anything unusual goes to Yoga. */
  const accept = (req: IncomingMessage): { hit: Match; url: URL; request: Request; method: string } | undefined => {
    const target = req.url;
    // Origin-form targets only (`/chats/1?...`), without the backslashes URL parsing reads as `/`.
    if (!target?.startsWith('/') || target.includes('\\')) return undefined;
    if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) return undefined;
    if (options.closed()) return undefined;
    const method = req.method ?? 'GET';
    // Built as Yoga's Node adapter builds it, so both see the same path and host.
    const url = requestUrl(req);
    if (!url) return undefined;
    const hit = routeFor(matchPath(options.routes, url.pathname), method);
    if (!hit) return undefined;
    return { hit, url, request: toRequest(req, url, method), method };
  };

  const take = (req: IncomingMessage, res: ServerResponse): boolean => {
    const getEnveloped = options.getEnveloped();
    if (!getEnveloped) return false;
    let accepted: ReturnType<typeof accept>;
    try {
      accepted = accept(req);
    } catch {
      // E.g. a header the fetch API refuses: Yoga's adapter answers as it does.
      return false;
    }
    if (!accepted) return false;
    const { hit, url, request, method } = accepted;
    stats.served++;
    const fields = nodeRequestFields(req, method, url.pathname);
    fields.route = hit.route.path;
    answers.handle(req, res, request, fields, false, () =>
      serve(req, res, { hit, url, request, getEnveloped, fields }),
    );
    return true;
  };

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    {
      hit,
      url,
      request,
      getEnveloped,
      fields,
    }: { hit: Match; url: URL; request: Request; getEnveloped: GetEnveloped; fields: RequestFields },
  ): Promise<void> => {
    const read = await routeArguments(hit, request, url, options.maxBodyBytes, (limit) => readNodeBody(req, limit));
    if ('refused' in read) return await answers.sendResponse(req, res, fields, read.refused);
    // The same server context Yoga's Node adapter gives: Node's req/res, and the request.
    const answer = await runRoute(hit.route, read.values, { req, res, request }, getEnveloped, options.onErrors);
    if (answer.kind === 'error') return await answers.sendResponse(req, res, fields, answer.response);
    const body = answer.kind === 'json' ? answer.body : answer.file.content;
    await answers.send(req, res, fields, 200, answerHeaders(answer, hit.route), body);
  };

  return { take, stats };
}
