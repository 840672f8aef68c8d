import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Headers that cost nothing and close off browser-side misuse of an API. */
export function useSecurityHeaders(): Plugin {
  return {
    onResponse({ response }) {
      response.headers.set('x-content-type-options', 'nosniff');
      response.headers.set('referrer-policy', 'no-referrer');
      response.headers.set('x-frame-options', 'DENY');
      if (response.headers.get('content-type')?.startsWith('application/json')) {
        response.headers.set('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
      }
    },
  };
}

/** Refuses introspection queries (ENABLE_INTROSPECTION=false). REST cannot introspect anyway. */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
