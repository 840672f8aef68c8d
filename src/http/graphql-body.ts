import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { BodyError, CLOSE, codeOf, decodeUtf8, mediaTypeOf, parseJsonObject, readBody } from './body';
import { errorResponse } from './respond';

/**
 * The only bodies /graphql runs. Forms (urlencoded, multipart) and text/plain are what a page on
 * another site can POST without a CORS preflight, so accepting them would let any site run
 * mutations with the visitor's network position or cookies.
 */
const GRAPHQL_BODY_TYPES = new Set(['application/json', 'application/graphql-response+json']);

/**
 * Reads POST /graphql bodies in place of Yoga's parsers: JSON only (415 otherwise, before
 * anything runs), cut at `maxBytes` while streaming (413), and strict UTF-8 (400). Yoga's own
 * size limit must be off (`maxRequestBodySize: false`): it would wrap every body in a second
 * stream and Request, and it only checks what this already checks.
 */
export function useGraphQLBody(maxBytes: number): Plugin {
  return {
    async onRequestParse({ request, setRequestParser, endResponse }) {
      if (request.method !== 'POST') return;
      try {
        const type = mediaTypeOf(request);
        if (type === null || !GRAPHQL_BODY_TYPES.has(type)) {
          throw new BodyError(
            'media-type',
            `Content-Type must be one of: ${[...GRAPHQL_BODY_TYPES].join(', ')} (with an optional charset)`,
          );
        }
        const params = parseJsonObject(decodeUtf8(await readBody(request, maxBytes)), false) as GraphQLParams;
        setRequestParser(() => params);
      } catch (error) {
        if (!(error instanceof BodyError)) throw error;
        const headers = error.problem === 'too-large' ? CLOSE : undefined;
        endResponse(errorResponse(true, codeOf(error.problem, 'graphql'), error.message, headers));
      }
    },
  };
}
