import { complexityFromQuery } from '@pothos/plugin-complexity';
import {
  type DocumentNode,
  type FieldNode,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isListType,
  isNonNullType,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  validate,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { config } from '../config';
import { detailResponse, HTTP_STATUS_BY_CODE } from '../graphql/errors';
import {
  announcesBody,
  BodyError,
  CLOSE,
  codeOf,
  decodeUtf8,
  mediaTypeOf,
  parseJsonObject,
  readBody,
} from '../http/body';
import { strictQuery } from '../http/query';
import { errorResponse } from '../http/respond';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export type RestRoute = Readonly<{
  method: Method;
  /** The path as SOFA (fets) matches it, with `:name` for path parameters. */
  path: string;
  /** The root field that serves it, e.g. `Mutation.create_chat`. */
  field: string;
  /** The fields of the JSON body, in the documented order; aliases rename (`tokens: total_tokens`). */
  selection: string;
  summary: string;
  /** The section of the API docs. */
  tag: 'Chats' | 'Messages' | 'Users' | 'Usage' | 'Debugging';
  /** On POST/PUT, the arguments documented in the query string rather than the body. */
  query?: readonly string[];
  /** The error statuses the route documents (all routes also answer 422 for bad input). */
  errors?: readonly number[];
  /** Served only while debug routes are on. */
  debug?: boolean;
  /** The field returns `{filename, content_type, content}`: answer with that file, not JSON. */
  download?: boolean;
}>;

const CHAT = 'chat_id user_id title created_at';
const MESSAGE = 'message_id chat_id content sender timestamp';
const SUMS = 'requests prompt_tokens completion_tokens cached_prompt_tokens reasoning_tokens total_tokens cost';

/**
 * The documented REST API (the README's REST API section), and nothing else: SOFA would expose every
 * root field and select every field of its type, so each route declares its exact response here.
 */
export const routes: readonly RestRoute[] = [
  {
    method: 'POST',
    path: '/chats/',
    field: 'Mutation.create_chat',
    selection: CHAT,
    summary: 'Create a new chat',
    tag: 'Chats',
  },
  {
    method: 'GET',
    path: '/chats/:chat_id',
    field: 'Query.chat',
    // One read returns at most MAX_MESSAGES_PER_READ messages (the newest); longer chats page with /messages.
    selection: `chat_id title created_at user_id messages(limit: ${config.maxMessagesPerRead}) { ${MESSAGE} }`,
    summary: 'Retrieve a chat with its messages',
    tag: 'Chats',
    errors: [404],
  },
  { method: 'GET', path: '/chats/', field: 'Query.chats', selection: CHAT, summary: 'List recent chats', tag: 'Chats' },
  {
    method: 'GET',
    path: '/chats/search/',
    field: 'Query.search_chats',
    selection: 'chat_id user_id title created_at matches { message_id snippet timestamp }',
    summary: 'Search chats by title and message content',
    tag: 'Chats',
  },
  {
    method: 'GET',
    path: '/chats/:chat_id/messages',
    field: 'Query.chat_messages',
    selection: `items { ${MESSAGE} } next_cursor prev_cursor`,
    summary: 'Page through a chat’s messages',
    tag: 'Messages',
    errors: [404],
  },
  {
    method: 'GET',
    path: '/chats/:chat_id/export',
    field: 'Query.export_chat',
    selection: 'filename content_type content',
    summary: 'Export a chat as a JSON or Markdown file',
    tag: 'Chats',
    errors: [404],
    download: true,
  },
  {
    method: 'PUT',
    path: '/chats/:chat_id',
    field: 'Mutation.update_chat',
    selection: 'chat_id title created_at user_id',
    summary: 'Update a chat',
    tag: 'Chats',
    errors: [404],
  },
  {
    method: 'DELETE',
    path: '/chats/:chat_id',
    field: 'Mutation.delete_chat',
    selection: 'message preserved_model_usage',
    summary: 'Delete a chat and its messages',
    tag: 'Chats',
    errors: [404],
  },
  {
    method: 'POST',
    path: '/chats/cleanup-empty',
    field: 'Mutation.cleanup_empty_chats',
    selection: 'message',
    summary: 'Delete empty chats',
    tag: 'Chats',
    errors: [403],
  },
  {
    method: 'POST',
    path: '/chats/:chat_id/messages',
    field: 'Mutation.add_message',
    selection: MESSAGE,
    summary: 'Add a message to a chat',
    tag: 'Messages',
    query: ['user_id'],
    errors: [404],
  },
  {
    method: 'POST',
    path: '/chats/users',
    field: 'Mutation.create_or_get_user',
    selection: 'user_id username email created_at',
    summary: 'Create or retrieve a user',
    tag: 'Users',
  },
  {
    method: 'POST',
    path: '/usage',
    field: 'Mutation.record_model_usage',
    selection: `usage_id user_id chat_id model_name provider prompt_tokens completion_tokens cached_prompt_tokens
      reasoning_tokens total_tokens cost price_known input_price cached_input_price output_price is_streaming
      request_time_ms timestamp`,
    summary: 'Record a model call and its cost',
    tag: 'Usage',
  },
  {
    method: 'GET',
    path: '/usage/summary',
    field: 'Query.usage_summary',
    selection: `time_zone from to group_by
      rows { model_name provider user_id chat_id day ${SUMS} }
      totals { ${SUMS} }`,
    summary: 'Usage and cost, grouped',
    tag: 'Usage',
    errors: [403],
  },
  {
    method: 'POST',
    path: '/chats/debug/test-model-usage',
    field: 'Mutation.test_model_usage',
    selection: 'success message response usage_recorded { usage_id model_name tokens: total_tokens cost timestamp }',
    summary: 'Test model usage tracking',
    tag: 'Debugging',
    query: ['model_name', 'user_id', 'chat_id'],
    debug: true,
  },
];

/** The routes this process serves: debug routes only while they are turned on. */
export const activeRoutes = (): RestRoute[] => routes.filter((r) => !r.debug || config.enableDebugRoutes);

/** SOFA's `routes` option: where each mapped root field is served. */
export function sofaRoutes(): Record<string, { method: Method; path: string; description: string }> {
  return Object.fromEntries(routes.map((r) => [r.field, { method: r.method, path: r.path, description: r.summary }]));
}

const hasBody = (method: string) => method === 'POST' || method === 'PUT';

/** A route with what the schema says about it, ready to match, check and document. */
export type CompiledRoute = RestRoute & {
  pattern: RegExp;
  pathParams: readonly string[];
  hasBody: boolean;
  graphqlField: GraphQLField<unknown, unknown>;
  selectionSet: SelectionSetNode;
  /** Where each argument is read: the path, the query string or the JSON body. */
  sourceOf: (arg: GraphQLArgument) => 'path' | 'query' | 'body';
};

function rootField(schema: GraphQLSchema, coordinate: string): GraphQLField<unknown, unknown> {
  const [typeName, fieldName] = coordinate.split('.');
  const type = typeName === 'Query' ? schema.getQueryType() : schema.getMutationType();
  const field = type?.getFields()[fieldName ?? ''];
  if (!field) throw new Error(`REST route map names ${coordinate}, which the schema does not have`);
  return field;
}

function compile(schema: GraphQLSchema, route: RestRoute): CompiledRoute {
  const field = rootField(schema, route.field);
  const pathParams = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
  const query = parse(`{ ${route.selection} }`).definitions[0] as OperationDefinitionNode;
  const body = hasBody(route.method);
  const compiled: CompiledRoute = {
    ...route,
    graphqlField: field,
    pattern: new RegExp(`^${route.path.replace(/:(\w+)/g, '([^/]+)')}$`),
    pathParams,
    hasBody: body,
    selectionSet: query.selectionSet,
    sourceOf: (arg) =>
      pathParams.includes(arg.name) ? 'path' : !body || route.query?.includes(arg.name) ? 'query' : 'body',
  };
  // Fails at start-up, not per request, when a selection does not fit the schema or the limits.
  const errors = validate(schema, shapedDocument(compiled, probeDocument(route, field)));
  if (errors.length > 0) throw new Error(`REST route ${route.method} ${route.path}: ${errors[0]?.message}`);
  const complexity = routeComplexity(schema, compiled);
  if (complexity > config.graphqlMaxComplexity) {
    throw new Error(
      `REST route ${route.method} ${route.path} needs a GraphQL complexity of ${complexity} with its largest arguments, over GRAPHQL_MAX_COMPLEXITY=${config.graphqlMaxComplexity}: raise it (or lower MAX_MESSAGES_PER_READ)`,
    );
  }
  return compiled;
}

/**
 * A valid value for an argument, as large as it may be when it sizes a list: a page size's
 * validator (`limitUpTo`) knows its maximum. Other values do not change the count.
 */
function largestValue(arg: GraphQLArgument): unknown {
  if (isListType(isNonNullType(arg.type) ? arg.type.ofType : arg.type)) return [];
  const type = getNamedType(arg.type);
  if (isEnumType(type)) return type.getValues()[0]?.name;
  if (type.name === 'Int') {
    const max = (arg.extensions.pothosOptions as { validate?: { maxValue?: unknown } } | undefined)?.validate?.maxValue;
    return typeof max === 'number' && max < INT32 ? max : 1;
  }
  return { Float: 0, Boolean: false }[type.name] ?? 'x';
}

/**
 * The complexity a route's operation counts with the largest arguments it accepts: SOFA's REST
 * calls go through the same limit as /graphql, so a route that needs more would refuse itself.
 */
export function routeComplexity(schema: GraphQLSchema, route: CompiledRoute): number {
  const variables = Object.fromEntries(route.graphqlField.args.map((arg) => [arg.name, largestValue(arg)]));
  return complexityFromQuery(shapedDocument(route, probeDocument(route, route.graphqlField)), { schema, variables })
    .complexity;
}

/** The routes this process serves, checked against the schema. */
export function compileRoutes(schema: GraphQLSchema): CompiledRoute[] {
  return activeRoutes().map((route) => compile(schema, route));
}

/** An operation like the one SOFA generates for the field, to validate the route's selection. */
function probeDocument(route: RestRoute, field: GraphQLField<unknown, unknown>): DocumentNode {
  const kind = route.field.startsWith('Query.') ? 'query' : 'mutation';
  const vars = field.args.map((a) => `$${a.name}: ${a.type}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  return parse(`${kind}${vars ? `(${vars})` : ''} { ${field.name}${args ? `(${args})` : ''} { __typename } }`);
}

/** SOFA's generated operation with the root field's selection replaced by the route's. */
function shapedDocument(route: CompiledRoute, document: DocumentNode): DocumentNode {
  const operation = document.definitions[0] as OperationDefinitionNode;
  const field = operation.selectionSet.selections[0] as FieldNode;
  return {
    ...document,
    definitions: [
      {
        ...operation,
        selectionSet: { ...operation.selectionSet, selections: [{ ...field, selectionSet: route.selectionSet }] },
      },
    ],
  };
}

class InputError extends Error {}

const INT32 = 2 ** 31;

/**
 * Checks one value against the argument's GraphQL type, strictly: SOFA itself would turn
 * `"content": 123` into "123" and `true` into 1. Values from the URL are strings by nature.
 */
function coerce(arg: GraphQLArgument, value: unknown, fromUrl: boolean): unknown {
  if (isListType(isNonNullType(arg.type) ? arg.type.ofType : arg.type)) {
    // In a URL a list is comma-separated (`group_by=MODEL,DAY`) or repeated; in a body, an array.
    const items = fromUrl ? String(value).split(',').filter(Boolean) : value;
    if (!Array.isArray(items)) throw new InputError(`${arg.name}: must be a list`);
    const item = { ...arg, type: getNamedType(arg.type) } as GraphQLArgument;
    return items.map((v) => coerce(item, v, fromUrl));
  }
  const type = getNamedType(arg.type);
  const fail = (expected: string) => new InputError(`${arg.name}: ${expected}`);
  if (isEnumType(type)) {
    const allowed = type.getValues().map((v) => v.name);
    if (typeof value !== 'string' || !allowed.includes(value)) throw fail(`must be one of ${allowed.join(', ')}`);
    return value;
  }
  switch (type.name) {
    case 'Int': {
      const n = fromUrl && typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw fail('must be an integer');
      if (n < -INT32 || n >= INT32) throw fail('is out of range');
      return n;
    }
    case 'Boolean': {
      if (fromUrl && (value === 'true' || value === 'false')) return value === 'true';
      if (typeof value !== 'boolean') throw fail('must be true or false');
      return value;
    }
    case 'String': {
      if (typeof value !== 'string') throw fail('must be a string');
      // A lone UTF-16 surrogate ("\ud800") is valid JSON but no text any database can store.
      if (!value.isWellFormed()) throw fail('must be valid Unicode text');
      return value;
    }
    default:
      throw fail('is not supported over REST');
  }
}

/**
 * A JSON object from the body, cut at MAX_BODY_BYTES while it streams in. A body is JSON or
 * nothing: forms and text/plain are what other sites can POST without a CORS preflight. An
 * empty body is `{}`, so bodiless POSTs (`POST /chats/`) work without a Content-Type.
 */
async function readJsonBody(request: Request): Promise<Record<string, unknown>> {
  const bytes = await readBody(request, config.maxBodyBytes);
  if (bytes.length > 0 && mediaTypeOf(request) === null) throw unsupportedMediaType();
  return parseJsonObject(decodeUtf8(bytes), true);
}

const unsupportedMediaType = () => new BodyError('media-type', 'Content-Type must be application/json');

/**
 * Before anything is read: no Content-Type is fine only without a body, and any type but JSON is
 * refused where a body is read or sent (an empty text/plain POST is still a cross-site form).
 */
function checkMediaType(route: CompiledRoute, request: Request) {
  const type = mediaTypeOf(request);
  if (type === 'application/json') return;
  if (type === null ? announcesBody(request) : route.hasBody || announcesBody(request)) throw unsupportedMediaType();
}

function decodePathSegment(arg: GraphQLArgument, segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InputError(`${arg.name}: is not a valid URL path segment`);
  }
}

function queryValue(arg: GraphQLArgument, query: Query): string | undefined {
  const values = query.filter(([key]) => key === arg.name).map(([, value]) => value);
  const isList = isListType(isNonNullType(arg.type) ? arg.type.ofType : arg.type);
  if (isList && values.length > 0) return values.join(',');
  if (values.length > 1) throw new InputError(`${arg.name}: is given more than once`);
  for (const [key] of query) {
    if (key.startsWith(`${arg.name}[`)) throw new InputError(`${arg.name}: must be a single value`);
  }
  return values[0];
}

type Query = ReadonlyArray<[string, string]>;

/** The query string, refused (422) when a percent-encoded value is not UTF-8 rather than read as U+FFFD. */
function readQuery(url: URL): Query {
  if (url.search === '') return [];
  try {
    return strictQuery(url.search);
  } catch {
    throw new InputError('The query string is not valid UTF-8 once percent-decoded');
  }
}

/**
 * Each argument from where the route documents it (path, query string or body), as SOFA will
 * look for it. JSON nulls count as absent, as in SOFA.
 */
async function readArguments(route: CompiledRoute, request: Request, query: Query, match: RegExpMatchArray) {
  const body = route.hasBody ? await readJsonBody(request) : {};
  const values: Record<string, unknown> = {};
  for (const arg of route.graphqlField.args) {
    const source = route.sourceOf(arg);
    const raw =
      source === 'path'
        ? decodePathSegment(arg, match[route.pathParams.indexOf(arg.name) + 1] as string)
        : source === 'query'
          ? queryValue(arg, query)
          : body[arg.name];
    if (raw === undefined || raw === null) {
      if (isNonNullType(arg.type) && arg.defaultValue === undefined) throw new InputError(`${arg.name}: is required`);
      continue;
    }
    values[arg.name] = coerce(arg, raw, source !== 'body');
  }
  return values;
}

/** The request SOFA sees: the route's own path, and only the checked arguments, all in the body or all in the query. */
function canonicalRequest(route: CompiledRoute, request: Request, path: string, values: Record<string, unknown>) {
  const target = new URL(path, request.url);
  const init: RequestInit = { method: route.method, headers: request.headers, signal: request.signal };
  const rest = Object.fromEntries(Object.entries(values).filter(([name]) => !route.pathParams.includes(name)));
  if (route.hasBody) init.body = JSON.stringify(rest);
  else {
    for (const [name, value] of Object.entries(rest)) {
      for (const item of Array.isArray(value) ? value : [value]) target.searchParams.append(name, String(item));
    }
  }
  return new Request(target, init);
}

/** The URL already says exactly what canonicalRequest would: same path, same query values. */
function isCanonical(url: URL, query: Query, path: string, values: Record<string, unknown>): boolean {
  if (url.pathname !== path) return false;
  for (const [name, value] of query) {
    const checked = values[name];
    if (checked === undefined || Array.isArray(checked) || String(checked) !== value) return false;
  }
  return true;
}

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
export function useRestRoutes(routes: readonly CompiledRoute[], graphqlEndpoint: string): Plugin {
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
        values = await readArguments(hit.route, request, query, hit.match);
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
