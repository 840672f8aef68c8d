import {
  type DocumentNode,
  type FieldNode,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isNonNullType,
  isScalarType,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  validate,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { config } from './config';
import { detailResponse, HTTP_STATUS_BY_CODE } from './errors';

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
  tag: 'Chats' | 'Messages' | 'Users' | 'Debugging';
  /** On POST/PUT, the arguments documented in the query string rather than the body. */
  query?: readonly string[];
  /** The error statuses the route documents (all routes also answer 422 for bad input). */
  errors?: readonly number[];
  /** Served only while debug routes are on. */
  debug?: boolean;
}>;

const CHAT = 'chat_id user_id title created_at';
const MESSAGE = 'message_id chat_id content sender timestamp';

/**
 * The documented REST API (shared/spec/chat-routes.md), and nothing else: SOFA would expose every
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
    selection: `chat_id title created_at user_id messages { ${MESSAGE} }`,
    summary: 'Retrieve a chat with its messages',
    tag: 'Chats',
    errors: [404],
  },
  { method: 'GET', path: '/chats/', field: 'Query.chats', selection: CHAT, summary: 'List recent chats', tag: 'Chats' },
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

type CompiledRoute = RestRoute & {
  pattern: RegExp;
  pathParams: string[];
  args: readonly GraphQLArgument[];
  selectionSet: SelectionSetNode;
};

export function rootField(schema: GraphQLSchema, coordinate: string): GraphQLField<unknown, unknown> {
  const [typeName, fieldName] = coordinate.split('.');
  const type = typeName === 'Query' ? schema.getQueryType() : schema.getMutationType();
  const field = type?.getFields()[fieldName ?? ''];
  if (!field) throw new Error(`REST route map names ${coordinate}, which the schema does not have`);
  return field;
}

function compile(schema: GraphQLSchema, route: RestRoute): CompiledRoute {
  const field = rootField(schema, route.field);
  const pathParams = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
  const pattern = new RegExp(`^${route.path.replace(/:(\w+)/g, '([^/]+)')}$`);
  const query = parse(`{ ${route.selection} }`).definitions[0] as OperationDefinitionNode;
  const compiled = { ...route, pattern, pathParams, args: field.args, selectionSet: query.selectionSet };
  // Fails at start-up, not per request, when a selection does not fit the schema.
  const errors = validate(schema, shapedDocument(compiled, probeDocument(route, field)));
  if (errors.length > 0) throw new Error(`REST route ${route.method} ${route.path}: ${errors[0]?.message}`);
  return compiled;
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
  const type = getNamedType(arg.type);
  const fail = (expected: string) => new InputError(`${arg.name}: ${expected}`);
  if (isEnumType(type)) {
    const allowed = type.getValues().map((v) => v.name);
    if (typeof value !== 'string' || !allowed.includes(value)) throw fail(`must be one of ${allowed.join(', ')}`);
    return value;
  }
  if (!isScalarType(type)) throw fail('is not supported over REST');
  switch (type.name) {
    case 'Int': {
      const n = fromUrl && typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw fail('must be an integer');
      if (n < -INT32 || n >= INT32) throw fail('is out of range');
      return n;
    }
    case 'Float': {
      const n = fromUrl && typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw fail('must be a number');
      return n;
    }
    case 'Boolean': {
      if (fromUrl && (value === 'true' || value === 'false')) return value === 'true';
      if (typeof value !== 'boolean') throw fail('must be true or false');
      return value;
    }
    default:
      if (typeof value !== 'string') throw fail('must be a string');
      return value;
  }
}

class TooLarge extends Error {}

async function readJsonBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (Buffer.byteLength(text) > config.maxBodyBytes) throw new TooLarge();
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InputError('The request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InputError('The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function decodePathSegment(arg: GraphQLArgument, segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InputError(`${arg.name}: is not a valid URL path segment`);
  }
}

/** Path, then query, then body, as SOFA reads them; JSON nulls count as absent, like SOFA. */
async function readArguments(route: CompiledRoute, request: Request, url: URL, match: RegExpMatchArray) {
  const body = hasBody(route.method) ? await readJsonBody(request) : {};
  const values: Record<string, unknown> = {};
  for (const arg of route.args) {
    const index = route.pathParams.indexOf(arg.name);
    let raw: unknown;
    let fromUrl = true;
    if (index >= 0) raw = decodePathSegment(arg, match[index + 1] as string);
    else if (url.searchParams.has(arg.name)) raw = url.searchParams.get(arg.name);
    else {
      raw = body[arg.name];
      fromUrl = false;
    }
    if (raw === undefined || raw === null) {
      if (isNonNullType(arg.type) && arg.defaultValue === undefined) throw new InputError(`${arg.name}: is required`);
      continue;
    }
    values[arg.name] = coerce(arg, raw, fromUrl);
  }
  return values;
}

/** The request SOFA sees: the canonical path, and only the validated arguments. */
function canonicalRequest(route: CompiledRoute, request: Request, url: URL, values: Record<string, unknown>) {
  const target = new URL(
    url.pathname.endsWith('/') || !route.path.endsWith('/') ? url.pathname : `${url.pathname}/`,
    url,
  );
  const init: RequestInit = { method: route.method, headers: request.headers, signal: request.signal };
  const rest = Object.fromEntries(Object.entries(values).filter(([name]) => !route.pathParams.includes(name)));
  if (hasBody(route.method)) init.body = JSON.stringify(rest);
  else for (const [name, value] of Object.entries(rest)) target.searchParams.set(name, String(value));
  return new Request(target, init);
}

/**
 * Serves the REST route map through SOFA. Before SOFA, it answers everything that is not a
 * mapped route (404/405), checks arguments strictly (422) and normalises the path (`/chats` is
 * `/chats/`). During execution, it swaps SOFA's select-everything operation for the route's
 * declared selection.
 */
export function useRestRoutes(schema: GraphQLSchema, graphqlEndpoint: string): Plugin {
  const compiled = activeRoutes().map((route) => compile(schema, route));
  const routeOf = new WeakMap<Request, CompiledRoute>();
  const shaped = new WeakMap<DocumentNode, DocumentNode>();

  function find(pathname: string) {
    const candidates = pathname.endsWith('/') ? [pathname] : [pathname, `${pathname}/`];
    const found: { route: CompiledRoute; match: RegExpMatchArray }[] = [];
    for (const path of candidates) {
      for (const route of compiled) {
        const match = path.match(route.pattern);
        if (match) found.push({ route, match });
      }
    }
    return found;
  }

  return {
    async onRequest({ request, url, setRequest, endResponse }) {
      if (url.pathname === graphqlEndpoint) return;
      const found = find(url.pathname);
      const hit = found.find((f) => f.route.method === request.method);
      if (!hit) {
        const allowed = [...new Set(found.map((f) => f.route.method))];
        if (allowed.length === 0) return endResponse(detailResponse(HTTP_STATUS_BY_CODE.NOT_FOUND, 'Not Found'));
        return endResponse(
          detailResponse(HTTP_STATUS_BY_CODE.METHOD_NOT_ALLOWED, 'Method Not Allowed', { allow: allowed.join(', ') }),
        );
      }
      let values: Record<string, unknown>;
      try {
        if (Number(request.headers.get('content-length') ?? 0) > config.maxBodyBytes) throw new TooLarge();
        values = await readArguments(hit.route, request, url, hit.match);
      } catch (error) {
        if (error instanceof TooLarge) {
          return endResponse(detailResponse(HTTP_STATUS_BY_CODE.PAYLOAD_TOO_LARGE, 'Request body too large'));
        }
        if (error instanceof InputError) {
          return endResponse(detailResponse(HTTP_STATUS_BY_CODE.BAD_USER_INPUT, error.message));
        }
        throw error;
      }
      const canonical = canonicalRequest(hit.route, request, url, values);
      routeOf.set(canonical, hit.route);
      setRequest(canonical);
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const request = (args.contextValue as { request?: Request }).request;
      const route = request && routeOf.get(request);
      if (!route) return;
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
