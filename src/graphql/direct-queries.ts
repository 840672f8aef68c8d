import {
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type GraphQLField,
  type GraphQLSchema,
  getOperationAST,
  getVariableValues,
  Kind,
  type OperationDefinitionNode,
  type SelectionNode,
  type VariableDefinitionNode,
} from 'graphql';
import { getArgumentValues } from 'graphql/execution/values';
import type { Plugin } from 'graphql-yoga';
import type { SqlReader } from '../db/direct';
import { isDriverUnavailable } from '../db/errors';
import { requestLogger, requestOf } from '../http/logging';
import type { CompiledRoute } from '../rest/compile';
import type { Context } from './context';
import { DeadlineError, untilAborted, withinDeadline } from './deadline';
import { databaseUnavailable } from './errors';
import { nameOperation } from './operation-metrics';

/*
 * The most frequent /graphql reads answered from SQL without the executor and the Prisma client
 * (GRAPHQL_DIRECT_READS), as REST's two most frequent reads are (src/rest/direct.ts), by the same
 * reads (src/modules/chats/direct-reads.ts). A query is answered directly only when its document
 * is exactly one query operation selecting one such field, with no alias, directive or fragment,
 * and only fields the read answers (in any order, each once). Everything else the executor answers.
 *
 * What stays the same: Yoga parses, validates and caches the document; the context (the caller's
 * identification) is the one the resolvers get; the variables and arguments are coerced by the
 * executor's own functions; the access rules are the same functions (auth/access.ts); the
 * request's deadline holds the read. The depth and complexity limits need no check here: a query
 * answered directly selects at most what GET /chats/{chat_id} or GET /chats/ selects, with at most
 * their largest arguments (the reads decline larger ones), and start-up refuses limits that those
 * routes exceed (rest/compile.ts).
 * Whatever a read cannot answer exactly as the resolvers would (a caller they refuse, a chat not
 * found, a branched chat, an argument out of range, a stored value the schema refuses), and any
 * read that fails, is left to the executor, which answers it as it always has; so the answer is
 * the resolvers' in every case. One exception: a database that cannot be reached is answered
 * SERVICE_UNAVAILABLE at once, as the executor answers it, rather than waited for a second time.
 * test/graphql/direct-queries.test.ts sends the same queries to a gateway without direct reads and
 * compares the answers.
 *
 * The reads run in one of two places. Inside Yoga's execution pipeline, as the plugin below: the
 * execution plugins after it (the deadline, metrics) wrap it as they wrap the executor. Or, for a
 * query the /graphql Node fast path serves (graphql/node-path.ts), outside it
 * (answerOutsideExecutor): there the read does itself what those plugins would do around it, and
 * a read left to the executor is not tried again inside it, and the executor gets what is left of
 * the same deadline (graphql/deadline.ts).
 */

/** A field of the read's answer: a scalar, or a list of objects with the scalar fields named. */
export type DirectField = 'scalar' | { args: readonly string[]; fields: readonly string[] };

/** A Query field a direct read answers. */
export type DirectQuery = {
  /** The fields of the answer the read gives, each to be selected at most once, in any order. */
  fields: Readonly<Record<string, DirectField>>;
  /**
   * The field's answer as the resolvers would give it, serialized as the executor serializes it,
   * with every field above; or undefined when it cannot give exactly that. `args` are the field's
   * arguments and `nested` those of each list field selected, coerced as the executor coerces them.
   */
  read: (
    sql: SqlReader,
    ctx: Context,
    args: Record<string, unknown>,
    nested: Record<string, Record<string, unknown>>,
  ) => Promise<unknown>;
};

/** What became of a direct read (the metric's `outcome`): served, declined (left to the executor), failed. */
type Outcome = 'served' | 'declined' | 'failed';

type Execution = {
  schema: GraphQLSchema;
  document: DocumentNode;
  contextValue?: unknown;
  variableValues?: Record<string, unknown> | null;
  signal?: AbortSignal;
};

/** A selected list field and its definition. */
type NestedList = { node: FieldNode; definition: GraphQLField<unknown, unknown>; fields: readonly string[] };

/** An operation a direct read can answer: what to read, and the order of the answer's fields. */
export type Plan = {
  name: string;
  query: DirectQuery;
  node: FieldNode;
  definition: GraphQLField<unknown, unknown>;
  variables: readonly VariableDefinitionNode[];
  /** The selected fields in their order; each list's own fields in `lists`. */
  fields: readonly string[];
  lists: ReadonlyMap<string, NestedList>;
};

const plain = (node: SelectionNode): node is FieldNode =>
  node.kind === Kind.FIELD && node.alias === undefined && !node.directives?.length;

/** The names of `node`'s selections when each is a plain field selected once; null otherwise. */
function plainFields(node: FieldNode): FieldNode[] | null {
  const selections = node.selectionSet?.selections ?? [];
  const seen = new Set<string>();
  for (const selection of selections) {
    if (!plain(selection) || seen.has(selection.name.value)) return null;
    seen.add(selection.name.value);
  }
  return selections as FieldNode[];
}

/** How `operation` is answered directly, or null when the executor answers it. */
function planOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  queries: ReadonlyMap<string, DirectQuery>,
): Plan | null {
  if (document.definitions.length !== 1 || operation.operation !== 'query' || operation.directives?.length) return null;
  const [node, ...others] = operation.selectionSet.selections;
  if (!node || others.length > 0 || !plain(node)) return null;
  const query = queries.get(node.name.value);
  const definition = schema.getQueryType()?.getFields()[node.name.value];
  const selected = plainFields(node);
  if (!query || !definition || !selected?.length) return null;
  const lists = new Map<string, NestedList>();
  for (const field of selected) {
    const name = field.name.value;
    const kind = query.fields[name];
    if (kind === undefined) return null;
    if (kind === 'scalar') {
      if (field.arguments?.length || field.selectionSet) return null;
      continue;
    }
    const listDefinition = fieldOf(schema, definition, name);
    const nested = plainFields(field);
    if (!listDefinition || !nested?.length) return null;
    if (field.arguments?.some((argument) => !kind.args.includes(argument.name.value))) return null;
    if (nested.some((leaf) => !kind.fields.includes(leaf.name.value) || leaf.arguments?.length || leaf.selectionSet)) {
      return null;
    }
    lists.set(name, { node: field, definition: listDefinition, fields: nested.map((leaf) => leaf.name.value) });
  }
  return {
    name: node.name.value,
    query,
    node,
    definition,
    variables: operation.variableDefinitions ?? [],
    fields: selected.map((field) => field.name.value),
    lists,
  };
}

/** The definition of field `name` on the object type `parent` returns (through lists and non-nulls). */
function fieldOf(schema: GraphQLSchema, parent: GraphQLField<unknown, unknown>, name: string) {
  let type = parent.type as { ofType?: unknown; name?: string };
  while (type.ofType) type = type.ofType as typeof type;
  const object = schema.getType(type.name ?? '');
  return object && 'getFields' in object ? (object.getFields()[name] as GraphQLField<unknown, unknown>) : undefined;
}

/** The read's value with the selected fields only, in the selection's order (as the executor answers). */
function project(value: unknown, plan: Plan): unknown {
  const one = (item: Record<string, unknown>) => {
    const answer: Record<string, unknown> = {};
    for (const name of plan.fields) {
      const list = plan.lists.get(name);
      answer[name] = list
        ? (item[name] as Record<string, unknown>[]).map((entry) => pick(entry, list.fields))
        : item[name];
    }
    return answer;
  };
  return Array.isArray(value) ? value.map(one) : one(value as Record<string, unknown>);
}

function pick(item: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const answer: Record<string, unknown> = {};
  for (const name of fields) answer[name] = item[name];
  return answer;
}

/**
 * The answer read directly, or undefined for the executor to answer: variables or arguments it
 * would refuse are its to refuse, with its own words.
 */
async function answer(plan: Plan, run: Execution, ctx: Context, sql: SqlReader): Promise<ExecutionResult | undefined> {
  const variables = getVariableValues(run.schema, plan.variables, run.variableValues ?? {});
  if (variables.errors) return undefined;
  let args: Record<string, unknown>;
  const nested: Record<string, Record<string, unknown>> = {};
  try {
    args = getArgumentValues(plan.definition, plan.node, variables.coerced);
    for (const [name, list] of plan.lists)
      nested[name] = getArgumentValues(list.definition, list.node, variables.coerced);
  } catch {
    return undefined;
  }
  const value = await plan.query.read(sql, ctx, args, nested);
  return value === undefined ? undefined : { data: { [plan.name]: project(value, plan) } };
}

/** What became of a direct read, counted. */
function counter(ctx: Context, field: string) {
  return (outcome: Outcome) => ctx.metrics.increment('graphql_direct_reads_total', { field, outcome });
}

export type DirectQueries = {
  /** The plugin that answers them inside the executor's pipeline (see above). */
  plugin: Plugin;
  /** How `operation` is answered directly, or null when the executor answers it. */
  planOf(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): Plan | null;
  /**
   * For the /graphql Node fast path (graphql/node-path.ts), which calls it with the context Yoga's
   * pipeline would build, in place of that pipeline's execution: the answer as the pipeline gives
   * it for a direct read (the operation named, the deadline held, the same metrics), or undefined
   * for the pipeline to answer the request: its executor then runs without a second try of the
   * read, within what is left of the same deadline. Its span is the read's; the executor's run
   * has one of its own.
   */
  answerOutsideExecutor(
    plan: Plan,
    run: Execution & { operationName?: string | null },
  ): Promise<ExecutionResult | undefined>;
};

/**
 * Answers the /graphql queries of `queries` directly when it can (see above). REST's operations
 * are left alone: their direct reads come before the executor (src/rest/direct.ts). The plugin
 * comes after the compiled execution (which it falls back to) and before the plugins that wrap
 * execution.
 */
export function createDirectQueries({
  queries,
  routes,
  enabled,
}: {
  queries: ReadonlyMap<string, DirectQuery>;
  routes: readonly CompiledRoute[];
  /** GRAPHQL_DIRECT_READS. */
  enabled: boolean;
}): DirectQueries {
  const plans = new WeakMap<OperationDefinitionNode, Plan | null>();
  const routeDocuments = new WeakSet(routes.map((route) => route.document));
  /** Requests whose read was tried outside the executor and left to it: not tried twice. */
  const triedOutside = new WeakSet<Request>();

  const planFor = (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) => {
    let plan = plans.get(operation);
    if (plan === undefined) {
      plan = enabled ? planOf(schema, document, operation, queries) : null;
      plans.set(operation, plan);
    }
    return plan;
  };

  const plugin: Plugin = {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (!enabled) return;
      const execution = args as unknown as Execution;
      if (routeDocuments.has(execution.document)) return;
      const operation = getOperationAST(execution.document, (args as { operationName?: string }).operationName);
      if (!operation) return;
      const plan = planFor(execution.schema, execution.document, operation);
      const ctx = execution.contextValue as Context;
      const sql = ctx.sql;
      // Without a verified caller the resolvers' scope check answers (401/403).
      if (!plan || !sql || !ctx.authenticated) return;
      if (ctx.request && triedOutside.has(ctx.request)) return;
      const direct = plan;
      const execute = executeFn as unknown as (run: Execution) => unknown;
      const count = counter(ctx, direct.name);
      setExecuteFn((async (run: Execution) => {
        run.signal?.throwIfAborted();
        let result: ExecutionResult | undefined;
        try {
          result = await untilAborted(answer(direct, run, ctx, sql), run.signal);
        } catch (error) {
          // Past the deadline: its answer (the signal's check reads the clock).
          if (run.signal?.aborted) throw error;
          run.signal?.throwIfAborted();
          count('failed');
          if (isDriverUnavailable(error)) {
            // As the executor answers it (its masking gives this error, without a path), at once
            // rather than after waiting for the database a second time.
            ctx.metrics.increment('database_unavailable_total');
            return { errors: [databaseUnavailable()], data: null };
          }
          requestLogger(ctx.logger, ctx.request).warn(
            { err: error, field: direct.name },
            'direct read failed: the executor answers',
          );
          return execute(run);
        }
        count(result === undefined ? 'declined' : 'served');
        return result ?? execute(run);
      }) as unknown as typeof executeFn);
    },
  };

  const answerOutsideExecutor: DirectQueries['answerOutsideExecutor'] = async (plan, run) => {
    const ctx = run.contextValue as Context;
    const sql = ctx.sql;
    if (!sql || !ctx.authenticated) return undefined;
    const count = counter(ctx, plan.name);
    // What the operation metrics plugin and the deadline plugin do for the executor's run.
    const endSpan = nameOperation(ctx.metrics, requestOf(ctx.request), run.document, run.operationName);
    const leaveToExecutor = () => {
      if (ctx.request) triedOutside.add(ctx.request);
      endSpan?.(0);
      return undefined;
    };
    const answerWith = (result: ExecutionResult) => {
      endSpan?.(result.errors?.length ?? 0);
      return result;
    };
    let result: ExecutionResult | undefined;
    try {
      result = await withinDeadline(() => answer(plan, run, ctx, sql), ctx.config.requestDeadlineMs, ctx);
    } catch (error) {
      // As the pipeline answers a cut: the error alone, neither counted nor retried.
      if (error instanceof DeadlineError) return answerWith({ errors: [error.answer] });
      count('failed');
      if (isDriverUnavailable(error)) {
        // As the plugin answers it, with the operation metrics' count of its error.
        ctx.metrics.increment('database_unavailable_total');
        ctx.metrics.increment('graphql_errors_total', { code: 'SERVICE_UNAVAILABLE' });
        return answerWith({ errors: [databaseUnavailable()], data: null });
      }
      requestLogger(ctx.logger, ctx.request).warn(
        { err: error, field: plan.name },
        'direct read failed: the executor answers',
      );
      return leaveToExecutor();
    }
    count(result === undefined ? 'declined' : 'served');
    return result === undefined ? leaveToExecutor() : answerWith(result);
  };

  return { plugin, planOf: planFor, answerOutsideExecutor };
}
