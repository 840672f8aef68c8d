import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import {
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import { type GraphQLParams, isAsyncIterable, type Plugin, processRegularResult, type YogaServer } from 'graphql-yoga';
import { BodyError, codeOf, decodeUtf8, parseJsonObject, readNodeBody } from '../http/body';
import { type Logger, type RequestFields, requestLogger } from '../http/logging';
import { type NodeAnswers, nodeRequestFields, requestUrl, toRequest } from '../http/node-answer';
import { errorResponse } from '../http/respond';
import type { DirectQueries } from './direct-queries';

/*
 * Plain /graphql queries served straight from Node's HTTP server (GRAPHQL_NODE_PATH), as the REST
 * routes are (src/rest/node-path.ts): without the fetch-API Request and Response and Yoga's
 * request plugins, which, with the execution plugins' chain, cost a directly read /graphql query
 * more CPU than the read itself (bench/README.md, "Changes measured").
 *
 * Taken, before the body is read, only: POST to exactly the endpoint (no query string) with a
 * `Host`, a JSON body with a Content-Length within MAX_BODY_BYTES and no Content-Encoding, an
 * Accept of nothing, `*` / `*` or application/json (so the answer is application/json), no `Origin`
 * or `Sec-Fetch-Site` header (so no CORS or cross-site check applies), while the gateway is open,
 * and only with CORS_ORIGINS and RATE_LIMIT_PER_MINUTE off (the gateway does not build this path
 * otherwise). Anything else is Yoga's, untouched.
 *
 * Served here, once the body is read, only a body of `query`, `variables` and `operationName`,
 * whose document Yoga has already parsed and found valid (so parsing and validation cannot fail)
 * and whose operation is a query (a mutation is left where its side effects have always run, and
 * a subscription streams), while the gateway is still open. Any other body is handed to Yoga with
 * the bytes read (see handOff). A query served here is answered in one of two ways:
 *
 *  - A query the direct reads answer (graphql/direct-queries.ts: `chat`, `chats` with the fields
 *    they give) is read by them outside the executor (readDirectly below): the document through
 *    the pipeline's parse (a cache hit), the context Yoga's pipeline builds (the caller's
 *    identification), and what the execution plugins would do around such a read done by the
 *    direct reads themselves (the operation named for logs, metrics and spans; the deadline; the
 *    direct-read and error metrics). Yoga's parameter checks and validation have nothing to refuse
 *    in such a body; masking leaves their answers as they are.
 *  - Any other query, and one the direct read leaves to the executor (or whose caller the context
 *    refuses), is run by Yoga's own handling of a request's parameters (`getResultForParams`:
 *    parameter checks, document cache, validation, context, every execution plugin, masking), and
 *    an error result is made an answer by Yoga's own `processRegularResult`.
 *
 * The HTTP around both is http/node-answer.ts, shared with REST's fast path. The answers are
 * Yoga's: test/graphql/node-path.test.ts sends each request both ways and compares status,
 * headers and body, and checks which way each was answered.
 */

type Yoga = Pick<
  YogaServer<Record<string, unknown>, Record<string, unknown>>,
  'getEnveloped' | 'getResultForParams' | 'fetchAPI'
>;

export type NodeGraphQLPath = {
  /**
   * Answers false (touching nothing) for a request that is Yoga's; otherwise true, and the request
   * is served here or handed to Yoga once its body is read.
   */
  take(req: IncomingMessage, res: ServerResponse): boolean;
  /** Notes each document Yoga found valid: only those are served here. */
  plugin: Plugin;
  /**
   * Requests served here (`direct`: of those, answered by a direct read outside the executor), and
   * those taken and then handed to Yoga, for tests and metrics.
   */
  readonly stats: { served: number; direct: number; handedOff: number };
};

/** A query this path serves: its parameters, the request as the fetch API sees it, its log fields. */
type Query = {
  params: Params;
  /** The parsed document of `params.query`, and its operation, as this path found them. */
  document: DocumentNode;
  operation: OperationDefinitionNode;
  request: Request;
  fields: RequestFields;
};

/** The parameters of a body this path serves (what Yoga's parameter check allows, and no `extensions`). */
type Params = { query: string; variables?: Record<string, unknown> | null; operationName?: string | null };

const PARAMS = new Set(['query', 'variables', 'operationName']);
/** The Accept headers Yoga answers with application/json (none, or one of these exactly). */
const JSON_ACCEPTS = new Set(['*/*', 'application/json']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The body's parameters when this path serves them, or null for Yoga to answer the body. */
function paramsOf(body: Uint8Array): Params | null {
  let params: Record<string, unknown>;
  try {
    params = parseJsonObject(decodeUtf8(body), false);
  } catch {
    return null;
  }
  for (const key in params) if (!PARAMS.has(key)) return null;
  const { query, variables, operationName } = params;
  if (typeof query !== 'string') return null;
  if (variables !== undefined && variables !== null && !isObject(variables)) return null;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
  return params as Params;
}

export function createNodeGraphQLPath(options: {
  endpoint: string;
  maxBodyBytes: number;
  /** True once the gateway is closed: Yoga's health plugin answers every request 503. */
  closed: () => boolean;
  answers: NodeAnswers;
  /** The document Yoga parsed from this text, if it holds it (graphql/document-cache.ts). */
  parsed: (text: string) => DocumentNode | undefined;
  /** The direct reads (graphql/direct-queries.ts): a query they can answer is answered here by them. */
  direct: DirectQueries;
  /** The schema Yoga serves. */
  schema: GraphQLSchema;
  logger: Logger;
  /** The Yoga server, once built. */
  yoga: () => Yoga | undefined;
  /** Serves a request through Yoga (its outer layer included), as if this path had not taken it. */
  viaYoga: (req: IncomingMessage, res: ServerResponse) => void;
}): NodeGraphQLPath {
  const stats = { served: 0, direct: 0, handedOff: 0 };
  const valid = new WeakSet<DocumentNode>();
  const { answers } = options;

  const plugin: Plugin = {
    onValidate({ params }) {
      // Called with the cached result too; a document's validity is the same for every request.
      return ({ valid: isValid }) => {
        if (isValid) valid.add(params.documentAST);
      };
    },
  };

  /** Whether the request's headers allow this path to take it (see above). */
  const takes = (req: IncomingMessage): boolean => {
    if (req.method !== 'POST' || req.url !== options.endpoint) return false;
    const { headers } = req;
    if (headers.origin !== undefined || headers['sec-fetch-site'] !== undefined) return false;
    if (headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) return false;
    // Read as useGraphQLBody (http/graphql-body.ts) reads it: the media type, without parameters.
    if (headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase() !== 'application/json') return false;
    const accept = headers.accept;
    if (accept !== undefined && !JSON_ACCEPTS.has(accept.trim().toLowerCase())) return false;
    const length = headers['content-length'];
    if (length === undefined || !/^\d+$/.test(length)) return false;
    const bytes = Number(length);
    return bytes > 0 && bytes <= options.maxBodyBytes && !options.closed();
  };

  /**
   * Yoga serves the request with the body this path read: @whatwg-node/server, under Yoga's Node
   * adapter, builds the fetch Request from a request's `body` when it holds one (as after
   * Express's body parsers) instead of reading the consumed stream.
   */
  const handOff = (req: IncomingMessage, res: ServerResponse, body: Uint8Array) => {
    stats.handedOff++;
    // A stream of the bytes rather than the bytes: the adapter first counts the body's own keys,
    // which for a Buffer means one string per byte.
    (req as IncomingMessage & { body?: Readable }).body = Readable.from([body]);
    options.viaYoga(req, res);
  };

  const take = (req: IncomingMessage, res: ServerResponse): boolean => {
    const yoga = options.yoga();
    if (!yoga || !takes(req)) return false;
    // Before the body is read, so the request's duration counts from its arrival, as Yoga's does.
    let begun: { request: Request; fields: RequestFields };
    try {
      const url = requestUrl(req);
      if (!url) return false;
      begun = { request: toRequest(req, url, 'POST'), fields: nodeRequestFields(req, 'POST', options.endpoint) };
    } catch {
      // A header or host the fetch API refuses: Yoga's adapter answers as it does.
      return false;
    }
    const { request, fields } = begun;
    readNodeBody(req, options.maxBodyBytes)
      .then(
        (body) => {
          const params = paramsOf(body);
          const document = params && options.parsed(params.query);
          const operation = document && valid.has(document) ? getOperationAST(document, params.operationName) : null;
          // Closed while the body arrived: Yoga's health plugin answers 503.
          if (!params || !document || operation?.operation !== 'query' || options.closed())
            return handOff(req, res, body);
          stats.served++;
          const query: Query = { params, document, operation, request, fields };
          answers.handle(req, res, request, fields, true, () => serve(req, res, yoga, query));
        },
        (error: unknown) => {
          // The client went away or broke the framing mid-body: answered as useGraphQLBody answers it.
          answers.handle(req, res, request, fields, true, async () => {
            if (!(error instanceof BodyError)) throw error;
            const response = errorResponse(true, codeOf(error.problem, 'graphql'), error.message);
            await answers.sendResponse(req, res, fields, response);
          });
        },
      )
      .catch((error: unknown) => {
        // Only if handing the request to Yoga failed: log it and end the connection rather than leave it hanging.
        requestLogger(options.logger, fields).error({ err: error }, 'request failed outside GraphQL execution');
        res.destroy();
      });
    return true;
  };

  /** The answer to a query: from a direct read when one answers it, else from Yoga's pipeline. */
  const serve = async (req: IncomingMessage, res: ServerResponse, yoga: Yoga, query: Query): Promise<void> => {
    const { params, request, fields } = query;
    // The server context Yoga's Node adapter gives (Node's req and res), with what Yoga adds: the
    // request, and the params as its JSON parser gives them (a null operationName included). One
    // object for both tries, so the caller is identified once (auth/identify.ts keeps it there).
    const serverContext = { req, res, request, params: params as GraphQLParams };
    const result =
      (await readDirectly(yoga, serverContext, query)) ??
      (await yoga.getResultForParams({ params: serverContext.params, request }, serverContext));
    // A query without @defer or @stream (which the schema does not have) has one result.
    if (isAsyncIterable(result)) throw new Error('a /graphql query answered a stream');
    const single = result as ExecutionResult & { stringify?: (value: unknown) => string };
    if (single.errors === undefined && single.extensions === undefined) {
      // What processRegularResult answers for a result without errors or extensions, without a Response.
      const body = (single.stringify ?? JSON.stringify)(single);
      return answers.send(req, res, fields, 200, { 'content-type': 'application/json; charset=utf-8' }, body);
    }
    await answers.sendResponse(req, res, fields, processRegularResult(single, yoga.fetchAPI, 'application/json'));
  };

  /**
   * A query the direct reads answer, answered by them without Yoga's parameter handling and the
   * execution plugins' chain, which cost a direct read about 30% of its CPU (bench/README.md): the
   * document parsed through Yoga's pipeline (a cache hit that keeps it cached), the context Yoga
   * builds, and what the plugins would do for the read done by the direct reads themselves
   * (direct-queries.ts, answerOutsideExecutor). Undefined for Yoga's pipeline to answer: the
   * caller refused (the pipeline answers that, from the same once-per-request identification),
   * or the read left to the executor.
   */
  const readDirectly = async (
    yoga: Yoga,
    serverContext: { req: IncomingMessage; res: ServerResponse; request: Request; params: GraphQLParams },
    { params, document: known, operation }: Query,
  ): Promise<ExecutionResult | undefined> => {
    const plan = options.direct.planOf(options.schema, known, operation);
    if (!plan) return undefined;
    const enveloped = yoga.getEnveloped(serverContext);
    // Through the pipeline's parse (the same document, from the cache), which counts the use.
    const document = enveloped.parse(params.query);
    let contextValue: unknown;
    try {
      contextValue = await enveloped.contextFactory();
    } catch {
      return undefined;
    }
    const result = await options.direct.answerOutsideExecutor(plan, {
      schema: options.schema,
      document,
      contextValue,
      variableValues: params.variables,
      operationName: params.operationName,
    });
    if (result) stats.direct++;
    return result;
  };

  return { take, plugin, stats };
}
