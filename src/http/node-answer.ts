import type { IncomingMessage, ServerResponse } from 'node:http';
import { COMPRESS_MIN_BYTES, chooseEncoding, compress, isCompressible, varyOnEncoding } from './compression';
import { failureResponse } from './errors-guard';
import { inRequest, type Logger, logResponse, type RequestFields, requestFields, requestLogger } from './logging';
import type { Metrics } from './metrics';
import { securityHeadersFor } from './security';
import type { Tracing } from './tracing';

/*
 * What the Node fast paths (REST's in rest/node-path.ts, GraphQL's in graphql/node-path.ts) do for
 * every answer, in place of the outer layer Yoga's requests cross (http/errors-guard.ts): the
 * request id and the request log line with its metrics and span (http/logging.ts), compression
 * (http/compression.ts), the security headers (http/security.ts), and a logged JSON 500 for
 * anything that escapes. Each path's tests compare its answers with Yoga's, headers included.
 */

export type NodeAnswers = ReturnType<typeof createNodeAnswers>;

export function createNodeAnswers(options: {
  logger: Logger;
  metrics: Pick<Metrics, 'increment' | 'observeResponse'>;
  tracing: Tracing | null;
  /** Each request also in an async context of its own (see inRequest in http/logging.ts). */
  propagate: boolean;
}) {
  /**
   * Serves `req` with `serve`, as the request `request` with these log fields (and, with tracing
   * on, its span): what `serve` throws is answered as the guard answers it.
   */
  const handle = (
    req: IncomingMessage,
    res: ServerResponse,
    request: Request,
    fields: RequestFields,
    graphql: boolean,
    serve: () => Promise<void>,
  ): void => {
    if (options.tracing) {
      fields.trace = options.tracing.begin(fields.method, fields.path, (name) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(',') : value;
      });
    }
    const served = inRequest(request, fields, options.propagate, async () => {
      try {
        await serve();
      } catch (error) {
        const failure = failureResponse(error, graphql, { ...options, logger: requestLogger(options.logger, fields) });
        await sendResponse(req, res, fields, failure);
      }
    });
    served.catch((error: unknown) => {
      // Only if answering the error failed too: log it and end the connection rather than leave it hanging.
      requestLogger(options.logger, fields).error({ err: error }, 'request failed outside GraphQL execution');
      res.destroy();
    });
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
        // As useCompression: an answer that fails to compress is sent as it is.
        const compressed = await compress(encoding, Buffer.from(text)).catch(() => null);
        if (compressed) {
          body = compressed;
          headers['content-encoding'] = encoding;
        }
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

  /** Writes a fetch-API answer (an error's, made by the functions Yoga's layer uses) as send() does. */
  const sendResponse = async (
    req: IncomingMessage,
    res: ServerResponse,
    fields: RequestFields,
    response: Response,
  ): Promise<void> => {
    // Lower case, as send() reads them: a Response of Yoga's fetch API keeps the case it was given.
    const headers: Record<string, string> = {};
    for (const [name, value] of response.headers) headers[name.toLowerCase()] = value;
    // send() sets the length of the body it writes.
    delete headers['content-length'];
    await send(req, res, fields, response.status, headers, await response.text());
  };

  return { handle, send, sendResponse };
}

/** The log fields of a request taken by a fast path, as useRequestLogging makes them for Yoga's. */
export function nodeRequestFields(req: IncomingMessage, method: string, pathname: string): RequestFields {
  return requestFields(req.headers['x-request-id'] as string | undefined, method, pathname);
}

/** A host and port, or a bracketed IPv6 address and port: nothing that could move the path. */
const PLAIN_HOST = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The request's URL as Yoga's Node adapter (@whatwg-node/server) builds it from the `Host` header
 * and the target, so that what reads it (a share link's origin) reads the same. Undefined, and
 * Yoga serves the request, without `Host` (the adapter then uses the socket's local address) or
 * with one that is not a plain host and port: a `/`, `?` or `#` in it would move the path Yoga
 * routes by (`Host: gw#` puts every target at `/`).
 */
export function requestUrl(req: IncomingMessage): URL | undefined {
  const host = req.headers.host;
  if (!host || !PLAIN_HOST.test(host) || !req.url) return undefined;
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return new URL(`${scheme}://${host}${req.url}`);
}

/**
 * The request as the fetch API sees it, for the context factory (the caller's identity) and the
 * argument readers: its headers as Node reads them (a repeated `Authorization` or `Content-Type`
 * counts once, as Yoga sees it). Its body is not in it: the fast paths read it from Node's request.
 * Throws for a header the fetch API refuses (Yoga's adapter answers that request).
 *
 * Its signal never aborts. Only subscriptions read a request's signal (auth/stream-guard.ts), and
 * they are Yoga's; and a Request given a signal of its own registers, in Node's fetch (undici), a
 * WeakRef and a finalizer that only a full collection clears, so every such request's objects
 * outlived the young generation: with one, a chat read ran three times as many full collections,
 * and its p99 was twice what it is without (bench/README.md, "Changes measured").
 */
export function toRequest(req: IncomingMessage, url: URL, method: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  return new Request(url, { method, headers });
}
