import { type ExecutionResult, type GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { noteRequestOfErrors, requestOf } from '../http/logging';
import type { Metrics } from '../http/metrics';

type ErrorLike = Partial<Pick<GraphQLError, 'extensions'>>;
const codeOf = (error: ErrorLike, fallback: string) =>
  typeof error.extensions?.code === 'string' ? error.extensions.code : fallback;

const isResult = (value: unknown): value is ExecutionResult =>
  typeof value === 'object' && value !== null && !(Symbol.asyncIterator in value);

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
      const operation =
        request?.trace || request?.route === undefined ? getOperationAST(args.document, args.operationName) : null;
      const name = args.operationName ?? operation?.name?.value;
      // A REST route is named by its route; a GraphQL request by its operation.
      if (request && request.route === undefined) request.operation = metrics.operationLabel(name) || 'anonymous';
      // With tracing on, the operation's span (its SQL statements' spans go under it).
      const endSpan = request?.trace?.operation(operation?.operation ?? 'query', name ?? 'anonymous');
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
