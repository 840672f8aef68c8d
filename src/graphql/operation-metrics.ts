import { type ExecutionResult, type GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { currentRequest } from '../http/logging';
import type { Metrics } from '../http/metrics';

type ErrorLike = Partial<Pick<GraphQLError, 'extensions'>>;
const codeOf = (error: ErrorLike, fallback: string) =>
  typeof error.extensions?.code === 'string' ? error.extensions.code : fallback;

const isResult = (value: unknown): value is ExecutionResult =>
  typeof value === 'object' && value !== null && !(Symbol.asyncIterator in value);

/**
 * Names each GraphQL request's operation (its log line and metrics carry it) and counts the
 * errors in answers by `extensions.code`: a query that does not parse or validate on /graphql,
 * and every error of an execution on either surface (REST routes run their operation through
 * the same pipeline).
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
    onExecute({ args }) {
      const request = currentRequest();
      // A REST route is named by its route; a GraphQL request by its operation.
      if (request && request.route === undefined) {
        const name = args.operationName ?? getOperationAST(args.document, args.operationName)?.name?.value;
        request.operation = metrics.operationLabel(name) || 'anonymous';
      }
      return {
        onExecuteDone({ result }) {
          if (isResult(result)) count(result.errors as readonly ErrorLike[] | undefined, 'INTERNAL_SERVER_ERROR');
        },
      };
    },
  };
}
