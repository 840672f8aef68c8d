import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  getVariableValues,
  type VariableDefinitionNode,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import type { CompiledRoute } from '../rest/compile';

/*
 * Operations compiled to JavaScript (graphql-jit) instead of interpreted field by field by the
 * executor on every request: about a fifth of a chat read's CPU (bench/README.md, "Changes
 * measured"). The same resolvers run with the same context inside the same Yoga pipeline: this
 * plugin only swaps the execute function, so error masking, metrics and the deadline still wrap it.
 *
 * - Every REST route's fixed operation is compiled at start-up (REST_COMPILED_EXECUTION).
 * - A /graphql query is compiled on its GRAPHQL_COMPILE_AFTER-th execution (0: never), so a
 *   document sent once costs no compilation. The compiled form lives as long as the parsed document
 *   does in Yoga's document cache (graphql/document-cache.ts). Mutations and subscriptions are
 *   always interpreted: they are few, and a mutation's cost is its writes.
 *
 * What graphql-jit does differently from the executor, and how it is made not to show:
 * - it checks no AbortSignal: the request deadline is checked before every resolver by the
 *   builder's deadline plugin (graphql/deadline.ts) and at the end here;
 * - it words variable errors its own way: a /graphql query's variables are checked by the
 *   executor's own rules first (REST's are checked before they get here, rest/arguments.ts).
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
 * graphql/deadline.ts, whose check also reads the clock) before every field and stops at an
 * aborted one. A compiled operation checks it before every resolver (the builder's deadline
 * plugin), but a field whose resolver threw gives null and the operation goes on to the next. So
 * the answer is the signal's error as soon as it aborts, whatever the resolvers are still waiting
 * for, and an operation that finished past the deadline is answered with it too, as the executor
 * would have stopped at its next field. A query has nothing to undo.
 */
function runCompiled(query: CompiledQuery, args: Execution): ExecutionResult | Promise<ExecutionResult> {
  compiledExecutionStats.runs++;
  const run = query.query(args.rootValue, args.contextValue, args.variableValues ?? {});
  const result =
    run instanceof Promise
      ? run.then((done) => asExecutorResult(done, args.document))
      : asExecutorResult(run, args.document);
  const { signal } = args;
  if (!signal) return result;
  if (!(result instanceof Promise)) return unlessAborted(signal, result);
  return new Promise<ExecutionResult>((resolve, reject) => {
    const onAbort = () => resolve(aborted(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    result.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(unlessAborted(signal, value));
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * The result as the executor gives it. graphql-jit's errors are GraphQL errors with their
 * locations already computed, but without the document's nodes or source, from which Yoga (when it
 * masks an error) computes them again: so they are made again here with the source and positions.
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
      originalError: error.originalError ?? undefined,
      extensions: error.extensions,
    });
  });
  const { data, errors: _, ...rest } = result;
  return { errors, data, ...rest };
}

/** The offset in `body` of a 1-based line and column. */
function offsetOf(body: string, { line, column }: { line: number; column: number }): number {
  let offset = 0;
  for (let at = 1; at < line; at++) offset = body.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

function unlessAborted(signal: AbortSignal, result: ExecutionResult): ExecutionResult {
  try {
    signal.throwIfAborted();
    return result;
  } catch {
    return aborted(signal);
  }
}

const aborted = (signal: AbortSignal): ExecutionResult => ({ data: null, errors: [asGraphQLError(signal.reason)] });

/** The abort's reason as the executor reports it: a GraphQL error whose original error carries the code. */
function asGraphQLError(reason: unknown): GraphQLError {
  if (reason instanceof GraphQLError) return reason;
  const original = reason instanceof Error ? reason : new Error(String(reason));
  return new GraphQLError(original.message, { originalError: original });
}

/** A /graphql query compiled, with the variables it declares. */
type HotQuery = { query: CompiledQuery; variables: readonly VariableDefinitionNode[] };

/** A /graphql document's operations: how often each ran, and its compiled form once it has one (null: never). */
type Uses = Map<string, { runs: number; compiled?: HotQuery | null }>;

/**
 * Executes the REST routes' documents, and /graphql queries run `compileAfter` times, compiled. It
 * must come before the plugins that wrap execution (the deadline), so they wrap the compiled function.
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
  const uses = new WeakMap<DocumentNode, Uses>();
  const routeDocuments = new WeakSet(routes.map((route) => route.document));

  /** The compiled form of a /graphql query, once it has run often enough; undefined until then. */
  const hot = (args: Execution): HotQuery | undefined => {
    let operations = uses.get(args.document);
    if (!operations) {
      operations = new Map();
      uses.set(args.document, operations);
    }
    const name = args.operationName ?? '';
    let entry = operations.get(name);
    if (!entry) {
      const operation = getOperationAST(args.document, args.operationName);
      entry = operation?.operation === 'query' ? { runs: 0 } : { runs: 0, compiled: null };
      operations.set(name, entry);
    }
    if (entry.compiled === undefined && ++entry.runs >= compileAfter) {
      const result = compileQuery(args.schema, args.document, args.operationName ?? undefined);
      const variables = getOperationAST(args.document, args.operationName)?.variableDefinitions ?? [];
      entry.compiled = isCompiledQuery(result) ? { query: result, variables } : null;
      if (entry.compiled) compiledExecutionStats.compiled++;
    }
    return entry.compiled ?? undefined;
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
      const query = hot(execution);
      if (!query) return;
      const interpret = executeFn as unknown as ExecuteFn;
      setExecuteFn(((run: Execution) => runQuery(query, run, interpret)) as unknown as typeof executeFn);
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
