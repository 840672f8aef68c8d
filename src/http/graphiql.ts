import { createHash } from 'node:crypto';
import path from 'node:path';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import { createStaticFiles, type StaticFile } from './static-files';

/*
 * GraphiQL as a small page plus separate files. Yoga's renderer (@graphql-yoga/render-graphiql)
 * inlines its whole bundle, its stylesheet and three Monaco web workers into the page: 9 MB of
 * HTML on every visit, which no cache can keep. The same bundle is served here as files under a
 * path that names the package's version (so they are cached for good, `immutable`), each with an
 * ETag and compressed once per encoding; the page itself is under 1 KB.
 */

const RENDERER_DIR = path.dirname(require.resolve('@graphql-yoga/render-graphiql'));
const VERSION = (require('@graphql-yoga/render-graphiql/package.json') as { version: string }).version;

/** Where GraphiQL's files are served: a new version of the package gets new URLs. */
export const GRAPHIQL_ASSETS = `/graphiql/${VERSION}/`;

type Bundle = {
  js: string;
  css: string;
  editorWorkerService: string;
  jsonWorker: string;
  graphqlWorker: string;
};

let bundle: Bundle | undefined;
/** The renderer's bundle: megabytes of strings, loaded when someone first opens GraphiQL. */
function graphiqlBundle(): Bundle {
  // The package exports only its renderer; the bundle module is read by its file path.
  bundle ??= require(path.join(RENDERER_DIR, 'graphiql.js')) as Bundle;
  return bundle;
}

/** Monaco's web workers by the label it asks for (the labels Yoga's page uses). */
const WORKERS = {
  editorWorkerService: 'editor.worker.js',
  json: 'json.worker.js',
  graphql: 'graphql.worker.js',
} as const;

// Runs before the bundle: Monaco looks its environment up when it starts a worker. Renders once
// the page is parsed, with the options the page carries in `data-options`.
const BOOT = `self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: function (moduleId, label) {
    return ${JSON.stringify(GRAPHIQL_ASSETS)} + ${JSON.stringify(WORKERS)}[label];
  },
};
document.addEventListener('DOMContentLoaded', function () {
  var root = document.getElementById('root');
  YogaGraphiQL.renderYogaGraphiQL(root, JSON.parse(root.dataset.options));
});
`;

/**
 * The boot script is this repository's code, not the package's: its name carries its own hash, so
 * that a change of it is a new URL even when the package's version (the folder) stays.
 */
const BOOT_FILE = `boot.${createHash('sha256').update(BOOT).digest('hex').slice(0, 12)}.js`;

const JS = 'text/javascript; charset=utf-8';
const FILES = new Map<string, StaticFile>([
  [BOOT_FILE, { contentType: JS, load: () => BOOT }],
  ['graphiql.js', { contentType: JS, load: () => graphiqlBundle().js }],
  ['graphiql.css', { contentType: 'text/css; charset=utf-8', load: () => graphiqlBundle().css }],
  [WORKERS.editorWorkerService, { contentType: JS, load: () => graphiqlBundle().editorWorkerService }],
  [WORKERS.json, { contentType: JS, load: () => graphiqlBundle().jsonWorker }],
  [WORKERS.graphql, { contentType: JS, load: () => graphiqlBundle().graphqlWorker }],
]);

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** The GraphiQL page, for Yoga's `renderGraphiQL` option: the options Yoga passes go to the boot script. */
export function renderGraphiQLPage(options: GraphiQLOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
  <link rel="icon" href="/favicon.ico">
  <link rel="stylesheet" href="${GRAPHIQL_ASSETS}graphiql.css">
</head>
<body id="body" class="no-focus-outline">
  <noscript>You need to enable JavaScript to run GraphiQL.</noscript>
  <div id="root" data-options="${escapeHtml(JSON.stringify(options))}"></div>
  <script src="${GRAPHIQL_ASSETS}${BOOT_FILE}"></script>
  <script src="${GRAPHIQL_ASSETS}graphiql.js"></script>
</body>
</html>
`;
}

/**
 * What the GraphiQL page may load: its own files, its workers, and requests to this server. Styles
 * are inline because Monaco injects them; images are data URLs in the stylesheet.
 */
export const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "worker-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Serves GraphiQL's files under GRAPHIQL_ASSETS, and gives the page its Content-Security-Policy. */
export function useGraphiQLFiles(graphqlEndpoint: string): Plugin {
  const files = createStaticFiles(FILES, 'public, max-age=31536000, immutable');
  return {
    onRequest({ request, url, endResponse }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (!url.pathname.startsWith(GRAPHIQL_ASSETS)) return;
      const answer = files.respond(request, url.pathname.slice(GRAPHIQL_ASSETS.length));
      if (answer) return answer.then(endResponse);
    },
    onResponse({ request, response }) {
      if (request.method !== 'GET' || !response.headers.get('content-type')?.startsWith('text/html')) return;
      if (new URL(request.url).pathname === graphqlEndpoint)
        response.headers.set('content-security-policy', GRAPHIQL_CSP);
    },
  };
}
