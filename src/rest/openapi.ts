import fs from 'node:fs';
import path from 'node:path';
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
import { projectRoot } from '../config';
import type { CompiledRoute } from './compile';

type JsonSchema = Record<string, unknown>;

const SCALARS: Record<string, JsonSchema> = {
  Int: { type: 'integer', format: 'int32' },
  Float: { type: 'number' },
  String: { type: 'string' },
  Boolean: { type: 'boolean' },
  DateTime: { type: 'string', format: 'date-time' },
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
  403: 'Forbidden',
  404: 'Not found, or not accessible with the given user_id',
  413: 'Request body too large',
  422: 'Invalid input',
  500: 'Unexpected error',
  503: 'The request ran past its deadline (REQUEST_DEADLINE_MS); try again after Retry-After seconds',
};

// OpenAPI 3.0 forbids an empty `required` list.
const requiredList = (names: string[]) => (names.length > 0 ? { required: names } : {});

function leafSchema(type: GraphQLOutputType | GraphQLArgument['type']): JsonSchema {
  const named = getNamedType(type);
  if (isEnumType(named)) return { type: 'string', enum: named.getValues().map((v) => v.value) };
  return { ...(SCALARS[named.name] ?? { type: 'string' }) };
}

/** The JSON schema of what a selection returns, aliases included, so the docs match the bodies. */
function outputSchema(
  type: GraphQLOutputType,
  selectionSet: SelectionSetNode | undefined,
  description?: string | null,
) {
  let nullable = true;
  let inner = type;
  if (isNonNullType(inner)) {
    nullable = false;
    inner = inner.ofType;
  }
  let schema: JsonSchema;
  if (isListType(inner)) schema = { type: 'array', items: outputSchema(inner.ofType, selectionSet) };
  else if (isObjectType(inner) && selectionSet) {
    const properties: Record<string, JsonSchema> = {};
    for (const selection of selectionSet.selections) {
      if (selection.kind !== Kind.FIELD) continue;
      const field = inner.getFields()[selection.name.value] as GraphQLField<unknown, unknown>;
      properties[selection.alias?.value ?? selection.name.value] = outputSchema(
        field.type,
        selection.selectionSet,
        field.description,
      );
    }
    schema = { type: 'object', properties, ...requiredList(Object.keys(properties)), additionalProperties: false };
  } else schema = leafSchema(inner);
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

function operation(route: CompiledRoute, options: OpenApiOptions) {
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
  // A read can run past REQUEST_DEADLINE_MS (src/graphql/deadline.ts); writes are never cut.
  const deadline = route.field.startsWith('Query.') && options.deadline ? [503] : [];
  const errors = [...new Set([...(route.errors ?? []), 422, 500, ...deadline])].sort();
  return {
    operationId: field.name,
    summary: route.summary,
    description: field.description ?? undefined,
    tags: [route.tag],
    parameters,
    ...(bodyArgs.length > 0 && {
      requestBody: {
        required: bodyArgs.some(isRequired),
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: Object.fromEntries(bodyArgs.map((arg) => [arg.name, argSchema(arg)])),
              ...requiredList(bodyArgs.filter(isRequired).map((arg) => arg.name)),
            },
          },
        },
      },
    }),
    responses: {
      200: {
        description: 'Success',
        content: { 'application/json': { schema: outputSchema(field.type, route.selectionSet) } },
      },
      ...Object.fromEntries(
        errors.map((status) => [
          status,
          {
            description: ERROR_DESCRIPTIONS[status] ?? 'Error',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        ]),
      ),
    },
  };
}

/** What of a gateway's configuration the document reflects. */
export type OpenApiOptions = { /** Reads may be cut at REQUEST_DEADLINE_MS (503). */ deadline: boolean };

/** The OpenAPI 3 document of the REST routes a gateway serves, from the route map and the schema. */
export function buildOpenApi(routes: readonly CompiledRoute[], options: OpenApiOptions) {
  const { version } = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8'));
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(route, options);
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'chat-gateway REST API',
      version,
      description:
        'Users, chats, messages and model usage of the AI data-analysis chat app. The same data and operations are available over GraphQL at /graphql.',
    },
    paths,
    components: {
      schemas: {
        Error: {
          type: 'object',
          properties: { detail: { type: 'string', description: 'What went wrong.' } },
          required: ['detail'],
        },
      },
    },
  };
}
