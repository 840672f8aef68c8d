import { type DocumentNode, type ExecutionResult, GraphQLError, type GraphQLSchema } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import type { CompiledRoute } from './compile';

/*
 * The REST routes' operations compiled to JavaScript once at start-up (graphql-jit), instead of
 * being interpreted field by field by the executor on every request: about a fifth of a chat
 * read's CPU (bench/README.md, "Changes measured"). The same resolvers run, with the same
 * context, inside the same Yoga pipeline: this plugin only swaps the execute function for a
 * route's own document, so error masking, metrics and the deadline plugin still wrap it.
 *
 * Only the REST routes' fixed documents are compiled. Their variables are checked against their
 * GraphQL types before they get here (rest/arguments.ts) and their selections are bounded
 * (rest/compile.ts checks each route's complexity), so what graphql-jit does differently from
 * graphql-js (its wording of variable errors, no field-by-field abort checks) cannot show. /graphql
 * keeps the standard executor. REST_COMPILED_EXECUTION=false switches this off;
 * test/rest/compiled-execution.test.ts sends the same requests both ways and compares the answers.
 */

/** Operations run compiled, for tests. */
export const compiledExecutionStats = { runs: 0 };

type Execution = {
  document: DocumentNode;
  rootValue?: unknown;
  contextValue?: unknown;
  variableValues?: Record<string, unknown> | null;
  signal?: AbortSignal;
};

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
 * aborted one; a compiled operation never looks at it. So the answer is the signal's error as soon
 * as it aborts, whatever the resolvers are still waiting for, and an operation that finished past
 * the deadline (a synchronous stretch kept the timer from firing) is answered with it too, as the
 * executor would have stopped at its next field. A read has nothing to undo.
 */
function runCompiled(query: CompiledQuery, args: Execution): ExecutionResult | Promise<ExecutionResult> {
  compiledExecutionStats.runs++;
  const result = query.query(args.rootValue, args.contextValue, args.variableValues ?? {});
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

/**
 * Executes the REST routes' documents with their compiled form. It must come before the plugins
 * that wrap execution (the deadline), so they wrap the compiled function.
 */
export function useCompiledRouteExecution(compiled: WeakMap<DocumentNode, CompiledQuery>): Plugin {
  return {
    onExecute({ args, setExecuteFn }) {
      const query = compiled.get(args.document);
      if (query) setExecuteFn((execution) => runCompiled(query, execution as Execution));
    },
  };
}
