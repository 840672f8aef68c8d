import type { Plugin } from 'graphql-yoga';
import { errorResponse } from './respond';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Defence in depth against cross-site request forgery, from fetch metadata: browsers mark a
 * request another site's page makes with `Sec-Fetch-Site: cross-site`, and one that changes data
 * is refused (403) unless it comes from an origin allowed by CORS_ORIGINS. Other clients send no
 * such header and are unaffected. The media-type rules (JSON bodies only) already stop forms.
 */
export function useCrossSiteWriteCheck(graphqlEndpoint: string, corsOrigins: readonly string[]): Plugin {
  const anyOrigin = corsOrigins.includes('*');
  const origins = new Set(corsOrigins);
  return {
    onRequest({ request, url, endResponse }) {
      if (anyOrigin || SAFE_METHODS.has(request.method)) return;
      if (request.headers.get('sec-fetch-site') !== 'cross-site') return;
      const origin = request.headers.get('origin');
      if (origin !== null && origins.has(origin)) return;
      endResponse(
        errorResponse(
          url.pathname === graphqlEndpoint,
          'FORBIDDEN',
          'Cross-site requests that change data are refused unless their origin is allowed (CORS_ORIGINS)',
        ),
      );
    },
  };
}
