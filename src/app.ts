import { useSofa } from '@graphql-yoga/plugin-sofa';
import { type CORSOptions, createYoga, maskError, type Plugin } from 'graphql-yoga';
import { config } from './config';
import { isDatabaseUnavailable } from './db/client';
import { type Context, createContext } from './graphql/context';
import { useRequestDeadline } from './graphql/deadline';
import { parserAndValidationCache } from './graphql/document-cache';
import { databaseUnavailable, restErrorResponse } from './graphql/errors';
import { schema } from './graphql/schema';
import { useCrossSiteWriteCheck } from './http/csrf';
import { withErrorGuard } from './http/errors-guard';
import { useGraphQLBody } from './http/graphql-body';
import { useHealthChecks } from './http/health';
import { logger } from './http/logging';
import { metrics } from './http/metrics';
import { useRateLimit } from './http/rate-limit';
import { useAcceptCheck, useNoIntrospection } from './http/security';
import { useDocs } from './rest/docs';
import { compileRoutes, sofaRoutes, useRestRoutes } from './rest/plugin';

const graphqlEndpoint = '/graphql';

/** No CORS headers unless origins are configured: browsers on other sites may not call us by default. */
function corsOptions(): CORSOptions | false {
  if (config.corsOrigins.length === 0) return false;
  return {
    origin: config.corsOrigins.includes('*') ? '*' : [...config.corsOrigins],
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'x-admin-api-key', 'x-request-id'],
    credentials: false,
  };
}
const restRoutes = compileRoutes(schema);

/** SOFA's router tries all its routes on every request it sees: GraphQL requests skip it. */
function notOnGraphql(plugin: Plugin): Plugin {
  const { onRequest } = plugin;
  if (!onRequest) return plugin;
  return {
    ...plugin,
    onRequest: (payload) => (payload.url.pathname === graphqlEndpoint ? undefined : onRequest(payload)),
  };
}

/** The whole service as one fetch handler: GraphQL (with GraphiQL) and the REST API. */
const app = createYoga<Record<string, unknown>, Context>({
  schema,
  graphqlEndpoint,
  context: createContext,
  logging: logger,
  // The playground page is megabytes of inlined assets: load it only when someone opens it.
  renderGraphiQL: (options) =>
    (require('@graphql-yoga/render-graphiql') as typeof import('@graphql-yoga/render-graphiql')).renderGraphiQL(
      options,
    ),
  graphiql: config.enableGraphiql ? { title: 'chat-gateway' } : false,
  // Bodies are read and limited by useGraphQLBody (POST /graphql) and useRestRoutes.
  maxRequestBodySize: false,
  parserAndValidationCache,
  landingPage: false,
  // Yoga's own check matches any URL *ending* in /health; ours (useHealthChecks) matches exactly.
  healthCheckEndpoint: '/.well-known/yoga-health',
  cors: corsOptions(),
  // Never send stacks or internals to clients, whatever NODE_ENV says; they go to the log. A
  // database that cannot be reached is not a bug: the client may retry (503 on REST).
  maskedErrors: {
    isDev: false,
    maskError: (error, message) => {
      if (!isDatabaseUnavailable(error)) return maskError(error, message, false);
      metrics.increment('database_unavailable_total');
      return databaseUnavailable();
    },
  },
  plugins: [
    useHealthChecks(),
    useCrossSiteWriteCheck(graphqlEndpoint),
    useRateLimit(graphqlEndpoint),
    useAcceptCheck(graphqlEndpoint),
    useGraphQLBody(config.maxBodyBytes),
    useDocs(restRoutes),
    useRestRoutes(restRoutes, graphqlEndpoint),
    ...(config.enableIntrospection ? [] : [useNoIntrospection()]),
    useRequestDeadline(),
    notOnGraphql(
      useSofa({
        basePath: '',
        routes: sofaRoutes(),
        // SOFA's types name fets' Response class; at run time any fetch Response does.
        errorHandler: (errors) => restErrorResponse(errors) as never,
        swaggerUI: { endpoint: null as unknown as string },
        openAPI: { endpoint: null as unknown as string },
      }),
    ),
  ],
});

/** What index.ts serves and tests fetch: the app behind the error guard, request logging and security headers. */
export const yoga = withErrorGuard(app, graphqlEndpoint);
