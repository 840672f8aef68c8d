import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { useHideSuggestions } from '../graphql/hide-suggestions';
import { errorResponse } from './respond';

/** Headers that cost nothing and close off browser-side misuse of an API. */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

/** On JSON responses: nothing in them may load or frame anything, should a browser render one. */
export const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";

/** The security headers of an answer with this Content-Type, for every path that answers. */
export function securityHeadersFor(contentType: string | null | undefined): [string, string][] {
  const headers: [string, string][] = Object.entries(SECURITY_HEADERS);
  if (contentType?.startsWith('application/json')) headers.push(['content-security-policy', JSON_CSP]);
  return headers;
}

export function useSecurityHeaders(): Plugin {
  return {
    onResponse({ response }) {
      for (const [name, value] of securityHeadersFor(response.headers.get('content-type'))) {
        response.headers.set(name, value);
      }
    },
  };
}

/**
 * Refuses introspection queries (ENABLE_INTROSPECTION=false), and gives no "Did you mean" hints,
 * which would reveal the schema anyway. REST cannot introspect.
 */
export function useNoIntrospection(): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(useHideSuggestions());
    },
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

const GRAPHQL_MEDIA_TYPES = [
  'application/graphql-response+json',
  'application/json',
  'text/event-stream',
  'multipart/mixed',
];

function acceptsGraphQL(accept: string | null): boolean {
  if (!accept) return true;
  return accept.split(',').some((part) => {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    if (params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p))) return false;
    if (range === '*/*') return true;
    const [type, subtype] = range.split('/');
    return GRAPHQL_MEDIA_TYPES.some((m) => m === range || (subtype === '*' && m.startsWith(`${type}/`)));
  });
}

/**
 * Refuses a GraphQL request whose Accept header allows no format we answer in, before it runs:
 * Yoga would otherwise execute a mutation and only then answer 406, and a retry would repeat it.
 */
export function useAcceptCheck(graphqlEndpoint: string): Plugin {
  return {
    onRequest({ request, url, endResponse }) {
      if (url.pathname !== graphqlEndpoint || acceptsGraphQL(request.headers.get('accept'))) return;
      endResponse(errorResponse(true, 'NOT_ACCEPTABLE', `Accept must allow one of: ${GRAPHQL_MEDIA_TYPES.join(', ')}`));
    },
  };
}
