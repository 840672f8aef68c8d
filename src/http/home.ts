import type { Plugin } from 'graphql-yoga';
import { OPERATIONS_PATHS } from './health';

/*
 * `GET /`: a small page saying what this server is and where its pages are, for whoever opens the
 * address in a browser (it was a 404); and `/favicon.ico`, which every browser asks for.
 */

/** A 32×32 chat bubble (a PNG inside an ICO container, which every browser reads). */
const FAVICON = Buffer.from(
  'AAABAAEAICAAAAEAIACZAAAAFgAAAIlQTkcNChoKAAAADUlIRFIAAAAgAAAAIAgGAAAAc3p69AAAAGBJREFUeNpjYBgFgxn4uz39Tw08IJaS5RhaW07QESPbAfSyHKcjRh2ASyEyoJYc0Q7ABiiVG3XA0EoDo9lw2BbHo7Xh4G0RDYo2ITGWD3iLeOQ6YMA6JQPWKxrtG9IDAADNJfS7eM4kcQAAAABJRU5ErkJggg==',
  'base64',
);

export type HomePageOptions = {
  graphqlEndpoint: string;
  /** GraphiQL is served at the GraphQL endpoint (ENABLE_GRAPHIQL). */
  graphiql: boolean;
};

function page({ graphqlEndpoint, graphiql }: HomePageOptions): string {
  const graphql = graphiql
    ? `<li><a href="${graphqlEndpoint}">${graphqlEndpoint}</a>: GraphQL, with the GraphiQL playground in a browser</li>`
    : `<li><code>POST ${graphqlEndpoint}</code>: GraphQL (the playground is off: ENABLE_GRAPHIQL)</li>`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>chat-gateway</title>
  <link rel="icon" href="/favicon.ico">
  <style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }</style>
</head>
<body>
  <h1>chat-gateway</h1>
  <p>The data service of the chat app: users, chats, messages and model usage, over GraphQL and REST.</p>
  <ul>
    ${graphql}
    <li><a href="/docs">/docs</a>: the REST API, browsable (Swagger UI)</li>
    <li><a href="/openapi.json">/openapi.json</a>: the REST API as an OpenAPI document</li>
    <li><a href="${OPERATIONS_PATHS.health}">${OPERATIONS_PATHS.health}</a> and <a href="${OPERATIONS_PATHS.ready}">${OPERATIONS_PATHS.ready}</a>: liveness and readiness</li>
    <li><a href="${OPERATIONS_PATHS.metrics}">${OPERATIONS_PATHS.metrics}</a>: metrics (Prometheus text)</li>
  </ul>
</body>
</html>
`;
}

export function useHomePage(options: HomePageOptions): Plugin {
  const html = page(options);
  return {
    onRequest({ request, url, endResponse }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (url.pathname === '/') {
        endResponse(new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } }));
      } else if (url.pathname === '/favicon.ico') {
        endResponse(
          new Response(FAVICON, {
            headers: { 'content-type': 'image/x-icon', 'cache-control': 'public, max-age=86400' },
          }),
        );
      }
    },
  };
}
