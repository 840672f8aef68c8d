import {
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  getVariableValues,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { CompiledRoute } from '../rest/compile';
import { untilAborted } from './deadline';
import { MAX_CACHED_DOCUMENT } from './document-cache';

/*
 * Operations compiled to JavaScript (graphql-jit) instead of interpreted field by field by the
 * executor on every request: about a fifth of a chat read's CPU (bench/README.md, "Changes
 * measured"). The same resolvers run with the same context inside the same Yoga pipeline: this
 * plugin only swaps the execute function, so error masking, metrics and the deadline still wrap it.
 *
 * - Every REST route's fixed operation is compiled at start-up (REST_COMPILED_EXECUTION).
 * - A /graphql query is compiled on its GRAPHQL_COMPILE_AFTER-th run (0: never), so a document
 *   sent once costs no compilation (useCompiledExecution says when exactly). The compiled form
 *   lives as long as the parsed document does in Yoga's document cache (graphql/document-cache.ts).
 *   Mutations and subscriptions are always interpreted: they are few, and a mutation's cost is its
 *   writes.
 *
 * What graphql-jit does differently from the executor, and how it is made not to show:
 * - it checks no AbortSignal: the request deadline is checked before every resolver by the
 *   builder's deadline plugin (graphql/deadline-plugin.ts) and at the end here;
 * - it words variable errors its own way: a /graphql query's variables are checked by the
 *   executor's own rules first (REST's are checked before they get here, rest/arguments.ts);
 * - its errors carry no document nodes, and those it raises itself no original error: they are
 *   made again as the executor makes them (asExecutorResult).
 * What still differs: when several fields fail, the order of the errors may, and a query that
 * ends past its deadline is answered DEADLINE_EXCEEDED even if no field was left to check it.
 * test/graphql/compiled-execution.test.ts sends the same requests both ways and compares the answers.
 */

/** Operations run compiled, for tests. */
export const compiledExecutionStats = { runs: 0, compiled: 0 };

type Execution = {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  rootValue?: unknown;
  contextValue?: unknown;
  variableValues?: Record<string, unknown> | null;
  signal?: AbortSignal;
};

type ExecuteFn = (args: Execution) => unknown;

/** Each route's document compiled against the schema; a route graphql-jit cannot compile keeps the executor. */
export function compileRouteOperations(
  schema: GraphQLSchema,
  routes: readonly CompiledRoute[],
): { compiled: WeakMap<DocumentNode, CompiledQuery>; failed: string[] } {
  const compiled = new WeakMap<DocumentNode, CompiledQuery>();
  const failed: string[] = [];
  for (const route of routes) {
    const result = compileQuery(schema, route.document, route.fieldName);
    if (isCompiledQuery(result)) compiled.set(route.document, result);
    else failed.push(`${route.method} ${route.path}: ${result.errors?.[0]?.message ?? 'not compiled'}`);
  }
  return { compiled, failed };
}

/**
 * Runs a compiled operation. The standard executor checks the signal (the request deadline,
 * graphql/deadline.ts, whose check also reads the clock) before every field, and rejects with its
 * reason once it aborted. A compiled operation checks it before every resolver (the builder's
 * deadline plugin), but a field whose resolver threw gives null and the operation goes on to the
 * next. So this rejects with the reason as soon as the signal aborts, whatever the resolvers are
 * still waiting for, and when the operation finished past the deadline, as the executor would have
 * stopped at its next field. A query has nothing to undo.
 */
function runCompiled(query: CompiledQuery, args: Execution): ExecutionResult | Promise<ExecutionResult> {
  compiledExecutionStats.runs++;
  const { signal, document } = args;
  const run = query.query(args.rootValue, args.contextValue, args.variableValues ?? {});
  if (!(run instanceof Promise)) {
    signal?.throwIfAborted();
    return asExecutorResult(run, document);
  }
  return untilAborted(
    run.then((result) => asExecutorResult(result, document)),
    signal,
  );
}

/**
 * The result as the executor gives it. graphql-jit's errors are GraphQL errors with their
 * locations already computed, but without the document's nodes or source, from which Yoga (when it
 * masks an error) computes them again: so they are made again here with the source and positions.
 * An error graphql-jit raised itself (a null for a non-null field, a value a scalar cannot
 * serialize) has no original error, and Yoga would send it as it is; the executor makes those plain
 * errors, which Yoga masks ("Unexpected error.") and logs, so they get a plain original error here.
 * Its result also lists `data` first.
 */
function asExecutorResult(result: ExecutionResult, document: DocumentNode): ExecutionResult {
  if (!result.errors?.length) return result;
  const source = document.loc?.source;
  const errors = result.errors.map((error) => {
    const positions = source && error.locations ? error.locations.map((at) => offsetOf(source.body, at)) : undefined;
    return new GraphQLError(error.message, {
      source: positions?.length ? source : undefined,
      positions: positions?.length ? positions : undefined,
      path: error.path,
      originalError: error.originalError ?? new Error(error.message),
      extensions: error.extensions,
    });
  });
  const { data, errors: _, ...rest } = result;
  return { errors, data, ...rest };
}

/** The offset in `body` of a 1-based line and column; lines end as the GraphQL lexer ends them. */
function offsetOf(body: string, { line, column }: { line: number; column: number }): number {
  const ends = /\r\n|[\n\r]/g;
  let offset = 0;
  for (let at = 1; at < line && ends.exec(body); at++) offset = ends.lastIndex;
  return offset + column - 1;
}

/** A /graphql query compiled, with the variables it declares. */
type HotQuery = { query: CompiledQuery; variables: readonly VariableDefinitionNode[] };

/**
 * A /graphql query operation: how many of its interpreted runs answered without an error, and its
 * compiled form once it has one (null: it is never compiled).
 */
type Uses = { clean: number; compiled?: HotQuery | null };

/**
 * The most fields a compiled query may hold once its fragments are written out where they are
 * spread (graphql-jit writes code for each). The limits on depth and complexity are checked only
 * when the query runs, after compilation: without this bound, a small document whose fragments
 * spread each other twice over would compile to code exponentially larger. An introspection query
 * holds a few hundred; an application's queries, tens.
 */
export const MAX_COMPILED_FIELDS = 2_000;

/** How many fields the operation holds with its fragments written out, counted up to `max` (then `max + 1`). */
export function expandedFields(document: DocumentNode, operation: OperationDefinitionNode, max: number): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  // Each fragment counted once (validation has refused cycles), capped so the numbers stay small.
  const counted = new Map<string, number>();
  const count = (selections: SelectionSetNode | undefined): number => {
    let total = 0;
    for (const selection of selections?.selections ?? []) {
      if (selection.kind === Kind.FIELD) total += 1 + count(selection.selectionSet);
      else if (selection.kind === Kind.INLINE_FRAGMENT) total += count(selection.selectionSet);
      else {
        const name = selection.name.value;
        let fields = counted.get(name);
        if (fields === undefined) {
          fields = count(fragments.get(name)?.selectionSet);
          counted.set(name, fields);
        }
        total += fields;
      }
      if (total > max) return max + 1;
    }
    return total;
  };
  return count(operation.selectionSet);
}

/**
 * Executes the REST routes' documents, and /graphql queries once they have run `compileAfter`
 * times, compiled. It must come before the plugins that wrap execution (the deadline), so they
 * wrap the compiled function.
 *
 * A /graphql query is compiled at its `compileAfter`-th run once the runs before it answered
 * without an error (so a query the limits refuse never is), if Yoga's document cache keeps its
 * document (a larger one is parsed anew for every request, and would be compiled anew too) and it
 * holds at most MAX_COMPILED_FIELDS fields. The count is kept per operation node, so only
 * operations that exist are counted, however many names callers send.
 */
export function useCompiledExecution({
  routes,
  compiledRoutes,
  compileAfter,
}: {
  routes: readonly CompiledRoute[];
  /** The routes' operations compiled, or null when REST_COMPILED_EXECUTION is off. */
  compiledRoutes: WeakMap<DocumentNode, CompiledQuery> | null;
  compileAfter: number;
}): Plugin {
  const uses = new WeakMap<OperationDefinitionNode, Uses>();
  const routeDocuments = new WeakSet(routes.map((route) => route.document));

  const compile = (args: Execution, operation: OperationDefinitionNode): HotQuery | null => {
    const size = args.document.loc?.source.body.length;
    if (size === undefined || size > MAX_CACHED_DOCUMENT) return null;
    if (expandedFields(args.document, operation, MAX_COMPILED_FIELDS) > MAX_COMPILED_FIELDS) return null;
    const result = compileQuery(args.schema, args.document, operation.name?.value);
    if (!isCompiledQuery(result)) return null;
    compiledExecutionStats.compiled++;
    return { query: result, variables: operation.variableDefinitions ?? [] };
  };

  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const execution = args as unknown as Execution;
      if (routeDocuments.has(execution.document)) {
        const route = compiledRoutes?.get(execution.document);
        if (route) setExecuteFn((run) => runCompiled(route, run as unknown as Execution));
        return;
      }
      if (compileAfter === 0) return;
      // No operation by that name (the executor answers that), or not a query: interpreted.
      const operation = getOperationAST(execution.document, execution.operationName);
      if (operation?.operation !== 'query') return;
      let entry = uses.get(operation);
      if (!entry) {
        entry = { clean: 0 };
        uses.set(operation, entry);
      }
      if (entry.compiled === undefined && entry.clean >= compileAfter - 1)
        entry.compiled = compile(execution, operation);
      const hot = entry.compiled;
      if (hot) {
        const interpret = executeFn as unknown as ExecuteFn;
        setExecuteFn(((run: Execution) => runQuery(hot, run, interpret)) as unknown as typeof executeFn);
        return;
      }
      if (hot === null) return;
      const counted = entry;
      return {
        onExecuteDone({ result }) {
          if (!isAsyncIterable(result) && !result.errors?.length) counted.clean++;
        },
      };
    },
  };
}

/**
 * A /graphql query: its variables are checked by the executor's rules (so a bad one is refused
 * with the executor's words) before the compiled form runs.
 */
function runQuery({ query, variables }: HotQuery, args: Execution, interpret: ExecuteFn): unknown {
  if (variables.length > 0 && getVariableValues(args.schema, variables, args.variableValues ?? {}).errors) {
    return interpret(args);
  }
  return runCompiled(query, args);
}
