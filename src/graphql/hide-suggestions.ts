import { type ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** graphql-js ends a message with its hint: `... Did you mean "chat" or "chats"?` */
const SUGGESTION = / Did you mean .+\?$/s;

function withoutSuggestion(error: GraphQLError): GraphQLError {
  return SUGGESTION.test(error.message) ? new GraphQLError(error.message.replace(SUGGESTION, ''), error) : error;
}

/** The errors of a finished result, hints removed; streams (subscriptions) are left to the options. */
function scrub(result: unknown, setResult: (result: ExecutionResult) => void) {
  const errors = (result as ExecutionResult | null)?.errors;
  if (!errors?.some((e) => SUGGESTION.test(e.message))) return;
  setResult({ ...(result as ExecutionResult), errors: errors.map(withoutSuggestion) });
}

/**
 * Leaves graphql-js' "Did you mean ...?" hints out of error messages: with introspection off they
 * would still spell out the schema a guess at a time (field, argument, type and enum value names).
 * graphql-js takes an option for this in validation and in the coercion of variables; the executor
 * Yoga runs (@graphql-tools/executor 2.1) drops it when coercing variables, so the hints are also
 * removed from the results of execution.
 */
export function useHideSuggestions(): Plugin {
  return {
    onValidate({ validateFn, setValidationFn }) {
      setValidationFn((schema, document, rules, options, typeInfo) =>
        validateFn(schema, document, rules, { ...options, hideSuggestions: true }, typeInfo),
      );
    },
    onExecute({ args }) {
      (args as { hideSuggestions?: boolean }).hideSuggestions = true;
      return { onExecuteDone: ({ result, setResult }) => scrub(result, setResult) };
    },
    onSubscribe({ args }) {
      (args as { hideSuggestions?: boolean }).hideSuggestions = true;
      return { onSubscribeResult: ({ result, setResult }) => scrub(result, setResult) };
    },
  };
}
