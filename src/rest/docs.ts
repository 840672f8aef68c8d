import fs from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'graphql-yoga';
import { createStaticFiles, type StaticFile } from '../http/static-files';
import type { CompiledRoute } from './compile';
import { buildOpenApi, type OpenApiOptions } from './openapi';

const SWAGGER_UI = path.dirname(require.resolve('swagger-ui-dist/package.json'));

// Swagger UI from the swagger-ui-dist package, so the docs work where no CDN can be reached
// (the usual /docs pages load it from unpkg).
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>chat-gateway REST API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', validatorUrl: null, deepLinking: true });\n`;

// A Map, not an object literal: a lookup must not find inherited keys (`/docs/constructor`).
const ASSETS = new Map<string, StaticFile>(
  [
    ['swagger-ui.css', 'text/css; charset=utf-8'],
    ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ].map(([name, contentType]) => [
    name as string,
    { contentType: contentType as string, load: () => fs.readFileSync(path.join(SWAGGER_UI, name as string)) },
  ]),
);

/** Serves `/openapi.json` and the Swagger UI page at `/docs`, both from this process. */
export function useDocs(routes: readonly CompiledRoute[], options: OpenApiOptions): Plugin {
  const openapi = JSON.stringify(buildOpenApi(routes, options));
  // The paths do not name swagger-ui-dist's version: clients revalidate daily with the ETag.
  const assets = createStaticFiles(ASSETS, 'public, max-age=86400');

  return {
    onRequest({ request, url, endResponse }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      const { pathname } = url;
      if (pathname === '/openapi.json') {
        return endResponse(new Response(openapi, { headers: { 'content-type': 'application/json; charset=utf-8' } }));
      }
      if (pathname === '/docs' || pathname === '/docs/') {
        return endResponse(new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } }));
      }
      if (pathname === '/docs/init.js') {
        return endResponse(new Response(INIT, { headers: { 'content-type': 'text/javascript; charset=utf-8' } }));
      }
      const answer = pathname.startsWith('/docs/')
        ? assets.respond(request, pathname.slice('/docs/'.length))
        : undefined;
      if (answer) return answer.then(endResponse);
    },
  };
}
