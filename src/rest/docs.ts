import fs from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'graphql-yoga';
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
const ASSETS = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
]);

/** Serves `/openapi.json` and the Swagger UI page at `/docs`, both from this process. */
export function useDocs(routes: readonly CompiledRoute[], options: OpenApiOptions): Plugin {
  const openapi = JSON.stringify(buildOpenApi(routes, options));
  const cache = new Map<string, string>();
  const asset = (name: string) => {
    let body = cache.get(name);
    if (body === undefined) {
      body = fs.readFileSync(path.join(SWAGGER_UI, name), 'utf8');
      cache.set(name, body);
    }
    return body;
  };

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
      const name = pathname.startsWith('/docs/') ? pathname.slice('/docs/'.length) : '';
      const type = ASSETS.get(name);
      if (type) {
        return endResponse(
          new Response(asset(name), { headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' } }),
        );
      }
    },
  };
}
