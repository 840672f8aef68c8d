import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLOutputType,
  getNamedType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from 'graphql';
import type { Config } from '../config';
import { RETRY_AFTER_SECONDS } from '../graphql/errors';
import { packageVersion } from '../lib/version';
import { FEEDBACK_EXPORT_PATH } from '../modules/feedback/export';
import { MAX_COMMENT_LENGTH, MAX_REASON_LENGTH } from '../modules/feedback/rows';
import { IMPORT_PATH } from '../modules/imports/route';
import { USAGE_EXPORT_PATH } from '../modules/usage/export';
import type { CompiledRoute } from './compile';

/*
 * The OpenAPI 3.0 document of the REST routes a gateway serves, built at start-up from the route
 * map (routes.ts), the GraphQL schema and the gateway's settings: every body is a named component
 * schema, every status a route can answer is declared (which depends on the settings: 401 only
 * with authentication on, 429 only with rate limits), and the security schemes are those of
 * AUTH_MODE. test/rest/openapi-responses.test.ts checks real answers against it, and
 * test/rest/openapi-lint.test.ts runs Redocly's and Spectral's linters on it.
 */

type JsonSchema = Record<string, unknown>;

const SCALARS: Record<string, JsonSchema> = {
  Int: { type: 'integer', format: 'int32' },
  Float: { type: 'number' },
  String: { type: 'string' },
  Boolean: { type: 'boolean' },
  DateTime: { type: 'string', format: 'date-time' },
};

/** What of a gateway's configuration the document reflects. */
export type OpenApiOptions = {
  /** Reads may be cut at REQUEST_DEADLINE_MS (503). */
  deadline: boolean;
  /** AUTH_MODE: which credentials callers present, and whether 401 can happen. */
  auth: Config['auth']['mode'];
  /** ADMIN_API_KEY is set: `X-Admin-API-Key` is accepted. */
  adminKey: boolean;
  /** RATE_LIMIT_PER_MINUTE is above 0: any route may answer 429. */
  rateLimit: boolean;
};

/** The document's options for a gateway's configuration. */
export function openApiOptions(config: Config): OpenApiOptions {
  return {
    deadline: config.requestDeadlineMs > 0,
    auth: config.auth.mode,
    adminKey: config.adminApiKey !== null,
    rateLimit: config.rateLimitPerMinute > 0,
  };
}

const ref = (kind: 'schemas' | 'responses', name: string) => ({ $ref: `#/components/${kind}/${name}` });

// OpenAPI 3.0 forbids an empty `required` list.
const requiredList = (names: string[]) => (names.length > 0 ? { required: names } : {});

const pascal = (name: string) => name.replace(/(^|_)([a-z])/g, (_, _sep, c: string) => c.toUpperCase());

/** A key with which two schemas are equal when they differ only in the order of their properties. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : Array.isArray(v) && v.every((x) => typeof x === 'string')
        ? [...v].sort()
        : v,
  );
}

/**
 * The named schemas of the document. An object shape gets its GraphQL type's name; the same type
 * selected with other fields gets the first free name among the ones proposed.
 */
class SchemaRegistry {
  readonly schemas: Record<string, JsonSchema> = {};

  /** The name of `schema`, registering it under the first of `names` that is free or already holds it. */
  add(names: string[], schema: JsonSchema): string {
    const key = canonical(schema);
    for (const name of names) {
      const existing = this.schemas[name];
      if (existing === undefined) {
        this.schemas[name] = schema;
        return name;
      }
      if (canonical(existing) === key) return name;
    }
    throw new Error(`OpenAPI: no free schema name among ${names.join(', ')}`);
  }
}

function leafSchema(type: GraphQLOutputType | GraphQLArgument['type']): JsonSchema {
  const named = getNamedType(type);
  if (isEnumType(named)) return { type: 'string', enum: named.getValues().map((v) => v.value) };
  return { ...(SCALARS[named.name] ?? { type: 'string' }) };
}

/** A reference with what OpenAPI 3.0 cannot put beside `$ref`: a description, or null allowed. */
function refWith(name: string, nullable: boolean, description?: string | null): JsonSchema {
  if (!nullable && !description) return ref('schemas', name);
  return {
    allOf: [ref('schemas', name)],
    ...(description && { description }),
    // OpenAPI 3.0 reads `nullable` only beside a `type` (every named schema here is an object).
    ...(nullable && { type: 'object', nullable: true }),
  };
}

/**
 * The JSON schema of what a selection returns, aliases included, so the docs match the bodies.
 * Objects become named component schemas; `names` proposes their names, first choice first.
 */
function outputSchema(
  registry: SchemaRegistry,
  type: GraphQLOutputType,
  selectionSet: SelectionSetNode | undefined,
  names: (typeName: string) => string[],
  description?: string | null,
): JsonSchema {
  let nullable = true;
  let inner = type;
  if (isNonNullType(inner)) {
    nullable = false;
    inner = inner.ofType;
  }
  if (isListType(inner)) {
    const schema: JsonSchema = { type: 'array', items: outputSchema(registry, inner.ofType, selectionSet, names) };
    if (description) schema.description = description;
    if (nullable) schema.nullable = true;
    return schema;
  }
  if (isObjectType(inner) && selectionSet) {
    const objectType = inner;
    const properties: Record<string, JsonSchema> = {};
    for (const selection of selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) continue;
      const field = objectType.getFields()[selection.name.value] as GraphQLField<unknown, unknown>;
      const key = selection.alias?.value ?? selection.name.value;
      properties[key] = outputSchema(
        registry,
        field.type,
        selection.selectionSet,
        (typeName) => [typeName, pascal(key), `${objectType.name}${pascal(key)}`],
        field.description,
      );
    }
    const schema: JsonSchema = {
      type: 'object',
      ...(objectType.description && { description: objectType.description }),
      properties,
      ...requiredList(Object.keys(properties)),
      additionalProperties: false,
    };
    return refWith(registry.add(names(objectType.name), schema), nullable, description);
  }
  const schema = leafSchema(inner);
  if (description) schema.description = description;
  if (nullable) schema.nullable = true;
  return schema;
}

function argSchema(arg: GraphQLArgument, withDescription = true): JsonSchema {
  const list = isListType(isNonNullType(arg.type) ? arg.type.ofType : arg.type);
  const schema: JsonSchema = list ? { type: 'array', items: leafSchema(arg.type) } : leafSchema(arg.type);
  if (withDescription && arg.description) schema.description = arg.description;
  if (arg.defaultValue !== undefined) schema.default = arg.defaultValue;
  return schema;
}

const isRequired = (arg: GraphQLArgument) => isNonNullType(arg.type) && arg.defaultValue === undefined;

/** The scopes a route's root field requires (Pothos' scope-auth options, kept on the field). */
function scopesOf(route: CompiledRoute): { member?: boolean; operator?: boolean; admin?: boolean } {
  const options = route.graphqlField.extensions?.pothosOptions as { authScopes?: unknown } | undefined;
  const scopes = options?.authScopes;
  return scopes && typeof scopes === 'object' ? scopes : {};
}

/** A root field without scopes is open to anyone in every AUTH_MODE (`GET /shared/{token}`). */
const isPublic = (route: CompiledRoute) =>
  (route.graphqlField.extensions?.pothosOptions as { authScopes?: unknown } | undefined)?.authScopes === undefined;

const SECURITY_SCHEMES = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A JWT whose `sub` claim is the caller’s user ID (or `role: "admin"`), signed with JWT_SECRET or a key of JWKS_URL.',
  },
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'A user’s API key (created over GraphQL by an admin: `create_api_key`).',
  },
  adminKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Admin-API-Key',
    description: 'The operators’ key (ADMIN_API_KEY): acts as an admin, on every route and in every AUTH_MODE.',
  },
} as const;

type Security = Record<string, string[]>[];

/** Who may call a route under these settings: each entry is one way to be let in (`{}`: no credentials). */
function securityOf(route: CompiledRoute, options: OpenApiOptions): Security {
  if (isPublic(route)) return [];
  const scopes = scopesOf(route);
  const admin: Security = options.adminKey ? [{ adminKey: [] }] : [];
  const user: Security =
    options.auth === 'jwt' ? [{ bearerAuth: [] }] : options.auth === 'api-key' ? [{ apiKey: [] }] : [];
  if (options.auth === 'off') {
    // An operators' route (admin scope) needs the key whatever AUTH_MODE says.
    if (scopes.admin && admin.length > 0) return admin;
    // Open; the admin key still matters where the route serves admins more (POST /chats/cleanup-empty).
    return route.errors?.includes(403) ? [{}, ...admin] : [];
  }
  // `operator` routes are for admins once authentication is on; a JWT may carry the admin role.
  // Without an admin key, an API-key route for admins still needs a key (a user's is refused, 403):
  // never an empty list, which would say "open to anyone".
  if ((scopes.admin || scopes.operator) && options.auth !== 'jwt' && admin.length > 0) return admin;
  return [...user, ...admin];
}

const ERROR_BODY = { 'application/json': { schema: ref('schemas', 'Error') } };
const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } },
};

/** Every error answer, once; operations refer to these by status. */
function errorResponses(options: OpenApiOptions): Record<string, JsonSchema> {
  const error = (description: string, headers?: Record<string, unknown>) => ({
    description,
    ...(headers && { headers }),
    content: ERROR_BODY,
  });
  return {
    BadRequest: error('The request body could not be read (the connection broke off while sending it)'),
    Unauthorized: error(
      'No credentials, or credentials that are invalid, expired or revoked',
      options.auth === 'jwt'
        ? { 'WWW-Authenticate': { description: 'Always `Bearer`.', schema: { type: 'string' } } }
        : undefined,
    ),
    Forbidden: error(
      'The caller may not do this (another user’s data, or an admin’s operation), or a write came from a page of another site (`Sec-Fetch-Site: cross-site`) whose origin is not in CORS_ORIGINS',
    ),
    NotFound: error('Not found, or not accessible to the caller'),
    PayloadTooLarge: error('The request body is larger than MAX_BODY_BYTES; the connection is closed', {
      Connection: { description: 'Always `close`.', schema: { type: 'string' } },
    }),
    UnsupportedMediaType: error('A request body that is not `application/json`'),
    UnprocessableEntity: error('Invalid input: a value, a missing field, an unknown field, or a body that is not JSON'),
    TooManyRequests: error('Over RATE_LIMIT_PER_MINUTE for this caller', RETRY_AFTER),
    TooManyRequestsOrBudget: error(
      options.rateLimit
        ? 'Over RATE_LIMIT_PER_MINUTE for this caller, or a budget is spent (the detail names it and when it resets; Retry-After until then)'
        : 'A budget is spent (the detail names it and when it resets; Retry-After until then)',
      RETRY_AFTER,
    ),
    InternalServerError: error('An unexpected error (logged with the request’s id)'),
    ServiceUnavailable: error(
      `The database cannot be reached, or the server is shutting down; try again after Retry-After seconds (${RETRY_AFTER_SECONDS})`,
      RETRY_AFTER,
    ),
    ServiceUnavailableOrDeadline: error(
      'The database cannot be reached, the server is shutting down, or the read ran past its deadline (REQUEST_DEADLINE_MS); try again after Retry-After seconds',
      RETRY_AFTER,
    ),
  };
}

/** The statuses a route can answer under these settings, each with its shared response. */
function errorsOf(route: CompiledRoute, options: OpenApiOptions): [number, string][] {
  const canHaveBody = route.method !== 'GET';
  const errors: [number, string][] = [];
  if (canHaveBody) errors.push([400, 'BadRequest']);
  const authenticated = options.auth !== 'off' && !isPublic(route);
  if (authenticated) errors.push([401, 'Unauthorized']);
  // Writes from another site's page are refused (src/http/csrf.ts), whatever AUTH_MODE says.
  if (route.errors?.includes(403) || authenticated || canHaveBody) errors.push([403, 'Forbidden']);
  if (route.errors?.includes(404) || route.pathParams.length > 0) errors.push([404, 'NotFound']);
  if (canHaveBody) errors.push([413, 'PayloadTooLarge'], [415, 'UnsupportedMediaType']);
  errors.push([422, 'UnprocessableEntity']);
  if (route.errors?.includes(429)) errors.push([429, 'TooManyRequestsOrBudget']);
  else if (options.rateLimit) errors.push([429, 'TooManyRequests']);
  errors.push([500, 'InternalServerError']);
  // A read can run past REQUEST_DEADLINE_MS (src/graphql/deadline.ts); writes are never cut.
  const deadline = route.field.startsWith('Query.') && options.deadline;
  errors.push([503, deadline ? 'ServiceUnavailableOrDeadline' : 'ServiceUnavailable']);
  return errors;
}

function successResponse(route: CompiledRoute, registry: SchemaRegistry) {
  const field = route.graphqlField;
  if (route.download) {
    return {
      description: 'The file, as a download: JSON by default, Markdown with `format=markdown`',
      headers: {
        'Content-Disposition': {
          description: '`attachment; filename="chat-<id>.json"` (or `.md`)',
          schema: { type: 'string' },
        },
      },
      content: {
        'application/json': { schema: ref('schemas', route.download.jsonSchema) },
        'text/markdown': { schema: { type: 'string', description: 'A readable transcript.' } },
      },
    };
  }
  const names = (typeName: string) => [route.schema ?? typeName, `${pascal(field.name)}Result`];
  return {
    description: 'Success',
    ...(route.cacheControl && {
      headers: {
        'Cache-Control': { description: `Always \`${route.cacheControl}\`.`, schema: { type: 'string' } },
      },
    }),
    content: { 'application/json': { schema: outputSchema(registry, field.type, route.selectionSet, names) } },
  };
}

function operation(route: CompiledRoute, options: OpenApiOptions, registry: SchemaRegistry) {
  const field = route.graphqlField;
  const parameters = field.args
    .filter((arg) => route.sourceOf(arg) !== 'body')
    .map((arg) => ({
      name: arg.name,
      in: route.sourceOf(arg),
      required: route.sourceOf(arg) === 'path' || isRequired(arg),
      description: arg.description ?? undefined,
      schema: argSchema(arg, false),
      // Lists in the query string are comma-separated: group_by=MODEL,DAY.
      ...(isListType(isNonNullType(arg.type) ? arg.type.ofType : arg.type) && { style: 'form', explode: false }),
    }));
  const bodyArgs = field.args.filter((arg) => route.sourceOf(arg) === 'body');
  const body =
    bodyArgs.length > 0 &&
    registry.add([`${pascal(field.name)}Request`], {
      type: 'object',
      properties: Object.fromEntries(
        bodyArgs.map((arg) => [
          arg.name,
          route.clearedByNull?.includes(arg.name) ? { ...argSchema(arg), nullable: true } : argSchema(arg),
        ]),
      ),
      ...requiredList(bodyArgs.filter(isRequired).map((arg) => arg.name)),
      additionalProperties: false,
    });
  return {
    operationId: field.name,
    summary: route.summary,
    description: field.description ?? undefined,
    tags: [route.tag],
    security: securityOf(route, options),
    parameters,
    ...(body && {
      requestBody: {
        required: bodyArgs.some(isRequired),
        content: { 'application/json': { schema: ref('schemas', body) } },
      },
    }),
    responses: {
      200: successResponse(route, registry),
      ...Object.fromEntries(errorsOf(route, options).map(([status, name]) => [status, ref('responses', name)])),
    },
  };
}

const TAGS: Record<CompiledRoute['tag'], string> = {
  Chats: 'Chats: create, list, search, read, rename, export and delete.',
  Folders: 'A user’s folders of chats, nested up to 8 deep.',
  Messages: 'The messages of a chat: add, page through, and branch (edit a question, regenerate an answer).',
  Sharing: 'Share links: read-only snapshots of a chat, for anyone with the link, until revoked or expired.',
  Feedback: 'Thumbs up or down on AI answers, with a reason, and their export (admins).',
  Import: 'Chat history brought in from ChatGPT’s export or this service’s own.',
  Users: 'Users, created or found by email, and their retention policy.',
  Usage: 'The ledger of model calls: tokens and cost, recorded and summarised.',
  Admin: 'Operators’ routes (the admin key): what the retention sweep would delete.',
  Budgets: 'Spending limits on the usage ledger, and the alerts they raise (admins).',
  Debugging: 'Routes for trying the service out; off in production (ENABLE_DEBUG_ROUTES).',
};

/** The 200 of a streamed CSV or JSON export: the file, as an attachment. */
const csvOrJsonDownload = (filename: string) => ({
  description: 'The file, as a download (`Content-Disposition: attachment`)',
  headers: { 'Content-Disposition': { description: filename, schema: { type: 'string' } } },
  content: {
    'text/csv': { schema: { type: 'string' } },
    'application/json': { schema: { type: 'array', items: { type: 'object', additionalProperties: true } } },
  },
});

/** The statuses of GET /usage/export, which is no GraphQL field (it streams): written out here. */
const EXPORT_ERRORS = (options: OpenApiOptions): [number, string][] => [
  ...(options.auth !== 'off' ? ([[401, 'Unauthorized']] as [number, string][]) : []),
  [403, 'Forbidden'],
  [422, 'UnprocessableEntity'],
  ...(options.rateLimit ? ([[429, 'TooManyRequests']] as [number, string][]) : []),
  [500, 'InternalServerError'],
  [503, 'ServiceUnavailable'],
];

function usageExportOperation(options: OpenApiOptions) {
  const parameter = (name: string, description: string, schema: JsonSchema) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema,
  });
  const admin: Security = options.adminKey ? [{ adminKey: [] }] : [];
  return {
    tags: ['Usage'],
    summary: 'Export the usage ledger (admins)',
    description:
      'The ledger’s rows in [from, to) (or, with `group_by`, the grouped summary of `GET /usage/summary`) as a CSV or JSON file, streamed as it is read: a million rows go out in constant memory. CSV has a header line; costs are exact decimals of USD (`cost_usd`). Admins only (the admin key, or an admin token).',
    operationId: 'export_usage',
    parameters: [
      parameter('from', 'Start (inclusive): a date (its start in time_zone) or an ISO 8601 instant with offset.', {
        type: 'string',
      }),
      parameter('to', 'End (exclusive), like from; default now.', { type: 'string' }),
      parameter(
        'group_by',
        'Comma-separated keys (MODEL, PROVIDER, USER, CHAT, DAY): the grouped summary instead of rows.',
        {
          type: 'string',
        },
      ),
      parameter('time_zone', 'IANA time zone of dates and days; default UTC.', { type: 'string' }),
      parameter('user_id', 'Only this user’s calls.', { type: 'integer', format: 'int32' }),
      parameter('format', 'csv (the default) or json (one array).', {
        type: 'string',
        enum: ['csv', 'json'],
        default: 'csv',
      }),
    ],
    // As for the admin routes of the route map (securityOf): never an empty list under authentication.
    security:
      options.auth === 'jwt'
        ? [{ bearerAuth: [] }, ...admin]
        : options.auth === 'api-key' && admin.length === 0
          ? [{ apiKey: [] }]
          : admin,
    responses: {
      200: csvOrJsonDownload('`attachment; filename="usage-rows-<date>.csv"` (or `usage-summary-...`, `.json`)'),
      ...Object.fromEntries(EXPORT_ERRORS(options).map(([status, name]) => [status, ref('responses', name)])),
    },
  };
}

/** GET /feedback, streamed like GET /usage/export (src/modules/feedback/export.ts). */
function feedbackExportOperation(options: OpenApiOptions) {
  const usage = usageExportOperation(options);
  const parameter = (name: string, description: string, schema: JsonSchema) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema,
  });
  return {
    ...usage,
    tags: ['Feedback'],
    summary: 'Export feedback on AI answers (admins)',
    description: `Every feedback row, by \`message_id\`, as a CSV or JSON file streamed as it is read. Columns: \`message_id, chat_id, user_id\` (the chat’s owner), \`rating, reason\` (at most ${MAX_REASON_LENGTH} characters), \`comment\` (at most ${MAX_COMMENT_LENGTH}), \`created_at, updated_at, question\` (the nearest user message above the answer, following \`parent_id\`), \`answer\` (the AI message) and \`model_name\` (of the chat’s latest usage record at or before the answer; empty or null when none). CSV has a header line, quotes as RFC 4180 and puts an apostrophe before text a spreadsheet would run as a formula. Admins only (the admin key, or an admin token).`,
    operationId: 'export_feedback',
    parameters: [
      parameter(
        'from',
        'Only feedback last set (updated_at) at or after this: a date (UTC) or an ISO 8601 instant with offset.',
        {
          type: 'string',
        },
      ),
      parameter('to', 'Only feedback last set before this, like from.', { type: 'string' }),
      parameter('rating', 'Only this rating.', { type: 'string', enum: ['up', 'down'] }),
      parameter('format', 'csv (the default) or json (one array).', {
        type: 'string',
        enum: ['csv', 'json'],
        default: 'csv',
      }),
    ],
    responses: {
      ...usage.responses,
      200: csvOrJsonDownload('`attachment; filename="feedback-<date>.csv"` (or `.json`)'),
    },
  };
}

/** The statuses of POST /chats/import, which is no GraphQL field (its body is the file): written out here. */
const IMPORT_ERRORS = (options: OpenApiOptions): [number, string][] => [
  [400, 'BadRequest'],
  ...(options.auth !== 'off' ? ([[401, 'Unauthorized']] as [number, string][]) : []),
  [403, 'Forbidden'],
  [415, 'UnsupportedMediaType'],
  [422, 'UnprocessableEntity'],
  ...(options.rateLimit ? ([[429, 'TooManyRequests']] as [number, string][]) : []),
  [500, 'InternalServerError'],
  [503, 'ServiceUnavailable'],
];

function chatImportOperation(options: OpenApiOptions, registry: SchemaRegistry) {
  const admin: Security = options.adminKey ? [{ adminKey: [] }] : [];
  const user: Security =
    options.auth === 'jwt' ? [{ bearerAuth: [] }] : options.auth === 'api-key' ? [{ apiKey: [] }] : [];
  const skip = registry.add(['ImportSkip'], {
    type: 'object',
    description: 'A conversation that was not imported, and why.',
    properties: {
      index: { type: 'integer', format: 'int32', description: 'Its position in the input (0 for a single chat).' },
      reason: { type: 'string', description: 'Why it was skipped, e.g. "no importable messages".' },
    },
    required: ['index', 'reason'],
    additionalProperties: false,
  });
  const result = registry.add(['ImportResult'], {
    type: 'object',
    description: 'What an import did.',
    properties: {
      imported: { type: 'integer', format: 'int32', description: 'How many chats were created.' },
      chat_ids: {
        type: 'array',
        items: { type: 'integer', format: 'int32' },
        description: 'The new chats’ IDs, in the order of the input.',
      },
      skipped: { type: 'array', items: ref('schemas', skip), description: 'Conversations not imported.' },
      skipped_messages: {
        type: 'integer',
        format: 'int32',
        description: 'Messages left out: system and tool messages, hidden, empty or non-text ones.',
      },
    },
    required: ['imported', 'chat_ids', 'skipped', 'skipped_messages'],
    additionalProperties: false,
  });
  return {
    tags: ['Import'],
    summary: 'Import chats from ChatGPT’s export or this service’s',
    description:
      'The body is the file itself: ChatGPT’s `conversations.json` (an array of conversations with their `mapping` of messages) or a chat exported by `GET /chats/{chat_id}/export` (or an array of them). Titles, branches and original times are kept; system, tool, hidden, empty and non-text messages are skipped and counted. Everything is checked before anything is written: malformed input is 422 with `detail` naming where, and nothing is imported. Each conversation is imported in its own transaction. Up to IMPORT_MAX_BYTES (50 MB unless configured).',
    operationId: 'import_chats',
    security: [...user, ...admin],
    parameters: [
      {
        name: 'user_id',
        in: 'query',
        required: false,
        description: 'Whose chats they become; must exist. With authentication on, yourself (an admin: anyone).',
        schema: { type: 'integer', format: 'int32' },
      },
    ],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            description: 'ChatGPT’s conversations.json, or this service’s export of a chat (or an array of them).',
            oneOf: [{ type: 'array', items: { type: 'object' } }, { type: 'object' }],
          },
        },
      },
    },
    responses: {
      200: { description: 'Success', content: { 'application/json': { schema: ref('schemas', result) } } },
      413: {
        description: 'The request body is larger than IMPORT_MAX_BYTES; the connection is closed',
        headers: { Connection: { description: 'Always `close`.', schema: { type: 'string' } } },
        content: ERROR_BODY,
      },
      ...Object.fromEntries(IMPORT_ERRORS(options).map(([status, name]) => [status, ref('responses', name)])),
    },
  };
}

/**
 * The JSON file of GET /chats/{chat_id}/export: GET /chats/{chat_id}'s keys, and with `tree=true`
 * also the active leaf and each message's parent (a tree cannot be read back without them).
 */
function addChatExportFile(registry: SchemaRegistry) {
  const chat = registry.schemas.ChatWithMessages;
  const message = registry.schemas.Message;
  if (!chat || !message) return;
  const optionalId = (description: string) => ({ type: 'integer', format: 'int32', nullable: true, description });
  const properties = (schema: JsonSchema) => (schema as { properties: Record<string, JsonSchema> }).properties;
  const exported = registry.add(['ExportedMessage'], {
    ...message,
    properties: {
      ...properties(message),
      parent_id: optionalId('With `tree=true` only: the message it answers or follows; null for a first message.'),
    },
  });
  registry.add(['ChatExportFile'], {
    ...chat,
    description: 'A chat exported as JSON: the keys of `GET /chats/{chat_id}` (with `tree=true`, every branch).',
    properties: {
      ...properties(chat),
      active_leaf_id: optionalId('With `tree=true` only: the last message of the active branch.'),
      messages: { type: 'array', items: ref('schemas', exported), description: 'The messages, in order.' },
    },
  });
}

/** The OpenAPI 3 document of the REST routes a gateway serves, from the route map and the schema. */
export function buildOpenApi(routes: readonly CompiledRoute[], options: OpenApiOptions) {
  const version = packageVersion();
  const registry = new SchemaRegistry();
  registry.add(['Error'], {
    type: 'object',
    description: 'Every error answer of the REST API.',
    properties: { detail: { type: 'string', description: 'What went wrong.' } },
    required: ['detail'],
  });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(route, options, registry);
  }
  paths[USAGE_EXPORT_PATH] = { get: usageExportOperation(options) };
  paths[FEEDBACK_EXPORT_PATH] = { get: feedbackExportOperation(options) };
  addChatExportFile(registry);
  paths[IMPORT_PATH] = { post: chatImportOperation(options, registry) };
  const schemes = {
    ...(options.auth === 'jwt' && { bearerAuth: SECURITY_SCHEMES.bearerAuth }),
    ...(options.auth === 'api-key' && { apiKey: SECURITY_SCHEMES.apiKey }),
    ...(options.adminKey && { adminKey: SECURITY_SCHEMES.adminKey }),
  };
  const used = new Set([...routes.map((route) => route.tag), 'Import']);
  const responses = errorResponses(options);
  const usedResponses = new Set([
    ...routes.flatMap((route) => errorsOf(route, options).map(([, name]) => name)),
    ...EXPORT_ERRORS(options).map(([, name]) => name),
    ...IMPORT_ERRORS(options).map(([, name]) => name),
  ]);
  return {
    openapi: '3.0.3',
    info: {
      title: 'chat-gateway REST API',
      version,
      description:
        'Users, chats, messages and model usage of the AI data-analysis chat app. The same data and operations are available over GraphQL at /graphql.',
      contact: { name: 'The chat-gateway maintainers' },
      license: { name: 'Proprietary (UNLICENSED): not licensed for use outside its owners’ services' },
    },
    // Relative: the document describes the server that serves it, wherever it is deployed.
    servers: [{ url: '/', description: 'This server' }],
    tags: Object.entries(TAGS)
      .filter(([name]) => used.has(name as CompiledRoute['tag']))
      .map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: registry.schemas,
      responses: Object.fromEntries(Object.entries(responses).filter(([name]) => usedResponses.has(name))),
      ...(Object.keys(schemes).length > 0 && { securitySchemes: schemes }),
    },
  };
}
