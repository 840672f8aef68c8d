import type { IncomingMessage, ServerResponse } from 'node:http';
import { readNodeBody } from '../http/body';
import { COMPRESS_MIN_BYTES, chooseEncoding, compress, isCompressible, varyOnEncoding } from '../http/compression';
import { failureResponse } from '../http/errors-guard';
import { inRequest, type Logger, logResponse, type RequestFields, requestFields, requestLogger } from '../http/logging';
import type { Metrics } from '../http/metrics';
import { securityHeadersFor } from '../http/security';
import type { Tracing } from '../http/tracing';
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
 * What Yoga's outer layer does for every answer is done here too: the request id and the request
 * log line (http/logging.ts), the security headers (http/security.ts), and a logged JSON 500 for
 * anything that escapes (http/errors-guard.ts).
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
  logger: Logger;
  metrics: Pick<Metrics, 'increment' | 'observeResponse'>;
  tracing: Tracing | null;
  /** Each request also in an async context of its own (see inRequest in http/logging.ts). */
  propagate: boolean;
}): NodeRestPath {
  const stats = { served: 0 };

  /** The request, if this path serves it: anything unusual goes to Yoga. */
  const accept = (
    req: IncomingMessage,
    res: ServerResponse,
  ): { hit: Match; url: URL; request: Request; method: string } | undefined => {
    const target = req.url;
    // Origin-form targets only (`/chats/1?...`), without the backslashes URL parsing reads as `/`.
    if (!target?.startsWith('/') || target.includes('\\')) return undefined;
    if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) return undefined;
    if (options.closed()) return undefined;
    const method = req.method ?? 'GET';
    // Built as Yoga's Node adapter builds it (base + target), so both see the same path.
    const url = new URL(`http://localhost${target}`);
    const hit = routeFor(matchPath(options.routes, url.pathname), method);
    if (!hit) return undefined;
    return { hit, url, request: toRequest(req, res, url, method), method };
  };

  const take = (req: IncomingMessage, res: ServerResponse): boolean => {
    const getEnveloped = options.getEnveloped();
    if (!getEnveloped) return false;
    let accepted: ReturnType<typeof accept>;
    try {
      accepted = accept(req, res);
    } catch {
      // E.g. a header the fetch API refuses: Yoga's adapter answers as it does.
      return false;
    }
    if (!accepted) return false;
    const { hit, url, request, method } = accepted;
    stats.served++;
    const fields = requestFields(req.headers['x-request-id'] as string | undefined, method, url.pathname);
    fields.route = hit.route.path;
    if (options.tracing) {
      fields.trace = options.tracing.begin(method, fields.path, (name) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(',') : value;
      });
    }
    const served = inRequest(request, fields, options.propagate, () =>
      serve(req, res, { hit, url, request, getEnveloped, fields }),
    );
    served.catch((error: unknown) => {
      // Only if answering the error failed too: log it and end the connection rather than leave it hanging.
      requestLogger(options.logger, fields).error({ err: error }, 'request failed outside GraphQL execution');
      res.destroy();
    });
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
    try {
      const read = await routeArguments(hit, request, url, options.maxBodyBytes, (limit) => readNodeBody(req, limit));
      if ('refused' in read) return await sendResponse(req, res, fields, read.refused);
      // The same server context Yoga's Node adapter gives: Node's req/res, and the request.
      const answer = await runRoute(hit.route, read.values, { req, res, request }, getEnveloped, options.onErrors);
      if (answer.kind === 'error') return await sendResponse(req, res, fields, answer.response);
      const body = answer.kind === 'json' ? answer.body : answer.file.content;
      await send(req, res, fields, 200, answerHeaders(answer, hit.route), body);
    } catch (error) {
      const failure = failureResponse(error, false, { ...options, logger: requestLogger(options.logger, fields) });
      await sendResponse(req, res, fields, failure);
    }
  };

  /** Writes the answer with the headers every answer carries (compressed if it qualifies), and logs it. */
  const send = async (
    req: IncomingMessage,
    res: ServerResponse,
    fields: RequestFields,
    status: number,
    headers: Record<string, string>,
    text: string,
  ): Promise<void> => {
    if (res.headersSent || res.destroyed) {
      // The client went away (or the answer was sent): the request still gets its log line.
      logResponse(options.logger, options.metrics, fields, status);
      return;
    }
    let body: string | Buffer = text;
    const type = headers['content-type'];
    // As useCompression (http/compression.ts) does for what Yoga answers.
    if (isCompressible(type)) {
      headers.vary = varyOnEncoding(headers.vary);
      const encoding = chooseEncoding(req.headers['accept-encoding']);
      if (encoding && Buffer.byteLength(text) >= COMPRESS_MIN_BYTES) {
        body = await compress(encoding, Buffer.from(text));
        headers['content-encoding'] = encoding;
      }
    }
    res.statusCode = status;
    for (const [name, value] of Object.entries(headers)) {
      res.setHeader(name, value);
    }
    res.setHeader('content-length', Buffer.byteLength(body));
    res.setHeader('x-request-id', fields.req_id);
    for (const [name, value] of securityHeadersFor(type)) {
      res.setHeader(name, value);
    }
    res.end(body);
    logResponse(options.logger, options.metrics, fields, status);
  };

  const sendResponse = async (
    req: IncomingMessage,
    res: ServerResponse,
    fields: RequestFields,
    response: Response,
  ): Promise<void> => {
    // send() sets the length of the body it writes.
    const headers = Object.fromEntries(response.headers);
    delete headers['content-length'];
    await send(req, res, fields, response.status, headers, await response.text());
  };

  return { take, stats };
}

/**
 * The request as the fetch API sees it, for the argument readers and the caller's identity: its
 * headers as Node reads them (a repeated `Authorization` or `Content-Type` counts once, as Yoga
 * sees it), and a signal that aborts when the client goes away before the answer is sent. Its body
 * stays in Node's request, read by readNodeBody: nothing else on this path reads a body.
 */
function toRequest(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const closed = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) closed.abort();
  });
  return new Request(url, { method, headers, signal: closed.signal });
}
