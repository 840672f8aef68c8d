import { type DocumentNode, type ExecutionResult, type GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { noteRequestOfErrors, type RequestFields, requestOf } from '../http/logging';
import type { Metrics } from '../http/metrics';

type ErrorLike = Partial<Pick<GraphQLError, 'extensions'>>;
const codeOf = (error: ErrorLike, fallback: string) =>
  typeof error.extensions?.code === 'string' ? error.extensions.code : fallback;

const isResult = (value: unknown): value is ExecutionResult =>
  typeof value === 'object' && value !== null && !(Symbol.asyncIterator in value);

/**
 * Names the request's operation, as its log line, metrics and span carry it, when it runs: a REST
 * route is named by its route, a GraphQL request by its operation. With tracing on, starts the
 * operation's span (its SQL statements' spans go under it) and answers the function that ends it
 * with the number of errors. For the plugin below, and for what answers a query outside the
 * executor (the /graphql Node fast path's direct reads, graphql/node-path.ts).
 */
export function nameOperation(
  metrics: Pick<Metrics, 'operationLabel'>,
  request: RequestFields | undefined,
  document: DocumentNode,
  operationName: string | null | undefined,
): ((errors: number) => void) | undefined {
  const operation = request?.trace || request?.route === undefined ? getOperationAST(document, operationName) : null;
  const name = operationName ?? operation?.name?.value;
  if (request && request.route === undefined) request.operation = metrics.operationLabel(name) || 'anonymous';
  return request?.trace?.operation(operation?.operation ?? 'query', name ?? 'anonymous');
}

/**
 * Names each GraphQL request's operation (its log line, metrics and span carry it) and counts the
 * errors in answers by `extensions.code`: a query that does not parse or validate on /graphql,
 * and every error of an execution on either surface (REST routes run their operation through
 * the same pipeline). Its errors note the request they failed in, for the line Yoga logs when it
 * masks one (http/logging.ts, yogaLogger).
 */
export function useOperationMetrics(metrics: Pick<Metrics, 'increment' | 'operationLabel'>): Plugin {
  const count = (errors: readonly ErrorLike[] | undefined, fallback: string) => {
    for (const error of errors ?? []) metrics.increment('graphql_errors_total', { code: codeOf(error, fallback) });
  };
  return {
    onParse() {
      return ({ result }) => {
        if (result instanceof Error) count([result as Error & ErrorLike], 'GRAPHQL_PARSE_FAILED');
      };
    },
    onValidate() {
      return ({ result }) => count(result as readonly ErrorLike[], 'GRAPHQL_VALIDATION_FAILED');
    },
    onSubscribe({ args }) {
      // A subscription's errors (its start, or an event's) note their request too, before Yoga
      // masks and logs them.
      const request = requestOf((args.contextValue as { request?: Request }).request);
      if (!request) return;
      const note = (result: unknown) => {
        if (isResult(result)) noteRequestOfErrors(result.errors, request);
      };
      return {
        onSubscribeResult({ result }) {
          if (isResult(result)) return note(result);
          return { onNext: ({ result: event }) => note(event) };
        },
        onSubscribeError({ error }) {
          noteRequestOfErrors([error], request);
        },
      };
    },
    onExecute({ args }) {
      const request = requestOf((args.contextValue as { request?: Request }).request);
      const endSpan = nameOperation(metrics, request, args.document, args.operationName);
      return {
        onExecuteDone({ result }) {
          const errors = isResult(result) ? (result.errors as readonly ErrorLike[] | undefined) : undefined;
          count(errors, 'INTERNAL_SERVER_ERROR');
          // Before Yoga masks them (its plugin comes after ours) and logs what it masked.
          noteRequestOfErrors(errors, request);
          endSpan?.(errors?.length ?? 0);
        },
      };
    },
  };
}
