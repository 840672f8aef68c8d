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
import type { Config } from '../config';
import { INT32 } from './arguments';
import { activeRoutes, type Method, type RestRoute, type RouteSettings } from './routes';

/** What of a gateway's configuration its compiled routes depend on. */
export type CompileSettings = RouteSettings & Pick<Config, 'graphqlMaxComplexity'>;

const hasBody = (method: Method) => method === 'POST' || method === 'PUT';

/** A route with what the schema says about it, ready to match, check and document. */
export type CompiledRoute = Omit<RestRoute, 'selection'> & {
  /** The route's selection for this gateway's settings. */
  selection: string;
  pattern: RegExp;
  pathParams: readonly string[];
  hasBody: boolean;
  graphqlField: GraphQLField<unknown, unknown>;
  selectionSet: SelectionSetNode;
  /** Where each argument is read: the path, the query string or the JSON body. */
  sourceOf: (arg: GraphQLArgument) => 'path' | 'query' | 'body';
  /**
   * The operation the route runs, parsed and validated once at start-up: its root field with one
   * variable per argument and the route's selection.
   */
  document: DocumentNode;
  /** The root field's name: the key of the answer in the operation's data. */
  fieldName: string;
};

function rootField(schema: GraphQLSchema, coordinate: string): GraphQLField<unknown, unknown> {
  const [typeName, fieldName] = coordinate.split('.');
  const type = typeName === 'Query' ? schema.getQueryType() : schema.getMutationType();
  const field = type?.getFields()[fieldName ?? ''];
  if (!field) throw new Error(`REST route map names ${coordinate}, which the schema does not have`);
  return field;
}

function compile(schema: GraphQLSchema, route: RestRoute, settings: CompileSettings): CompiledRoute {
  const field = rootField(schema, route.field);
  const pathParams = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
  const selection = typeof route.selection === 'function' ? route.selection(settings) : route.selection;
  const query = parse(`{ ${selection} }`).definitions[0] as OperationDefinitionNode;
  const body = hasBody(route.method);
  const compiled: CompiledRoute = {
    ...route,
    selection,
    graphqlField: field,
    pattern: new RegExp(`^${route.path.replace(/:(\w+)/g, '([^/]+)')}$`),
    pathParams,
    hasBody: body,
    selectionSet: query.selectionSet,
    sourceOf: (arg) =>
      pathParams.includes(arg.name) ? 'path' : !body || route.query?.includes(arg.name) ? 'query' : 'body',
    document: withSelection(operationFor(route.field, field), query.selectionSet),
    fieldName: field.name,
  };
  // Fails at start-up, not per request, when a selection does not fit the schema or the limits.
  // Requests run the document without validating it again.
  const errors = validate(schema, compiled.document);
  if (errors.length > 0) throw new Error(`REST route ${route.method} ${route.path}: ${errors[0]?.message}`);
  const complexity = routeComplexity(schema, compiled, settings);
  if (complexity > settings.graphqlMaxComplexity) {
    throw new Error(
      `REST route ${route.method} ${route.path} needs a GraphQL complexity of ${complexity} with its largest arguments, over GRAPHQL_MAX_COMPLEXITY=${settings.graphqlMaxComplexity}: raise it (or lower MAX_MESSAGES_PER_READ)`,
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
 * The complexity a route's operation counts with the largest arguments it accepts: REST
 * calls go through the same limit as /graphql, so a route that needs more would refuse itself.
 */
export function routeComplexity(schema: GraphQLSchema, route: CompiledRoute, settings: CompileSettings): number {
  const variables = Object.fromEntries(route.graphqlField.args.map((arg) => [arg.name, largestValue(arg)]));
  // Field complexities that depend on the gateway read its config from the context.
  const ctx = { config: settings };
  return complexityFromQuery(route.document, {
    schema,
    variables,
    ctx,
  }).complexity;
}

/** The routes a gateway serves, checked against the schema. */
export function compileRoutes(schema: GraphQLSchema, settings: CompileSettings): CompiledRoute[] {
  return activeRoutes(settings).map((route) => compile(schema, route, settings));
}

/** The operation of a root field with one variable per argument: `query chat($chat_id: Int!, …) { chat(chat_id: $chat_id, …) { __typename } }`. */
function operationFor(coordinate: string, field: GraphQLField<unknown, unknown>): DocumentNode {
  const kind = coordinate.startsWith('Query.') ? 'query' : 'mutation';
  const vars = field.args.map((a) => `$${a.name}: ${a.type}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  // Named after the field, so logs and traces say which route ran.
  return parse(
    `${kind} ${field.name}${vars ? `(${vars})` : ''} { ${field.name}${args ? `(${args})` : ''} { __typename } }`,
  );
}

/** The operation with its root field's selection replaced by `selectionSet`. */
function withSelection(document: DocumentNode, selectionSet: SelectionSetNode): DocumentNode {
  const operation = document.definitions[0] as OperationDefinitionNode;
  const field = operation.selectionSet.selections[0] as FieldNode;
  return {
    ...document,
    definitions: [
      { ...operation, selectionSet: { ...operation.selectionSet, selections: [{ ...field, selectionSet }] } },
    ],
  };
}
