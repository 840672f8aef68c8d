import { useSofa } from '@graphql-yoga/plugin-sofa';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga } from 'graphql-yoga';
import { type Context, createContext } from './context';
import { useDocs } from './docs';
import { restErrorResponse } from './errors';
import { logger, useRequestLogging } from './logger';
import { sofaRoutes, useRestRoutes } from './rest';
import { schema } from './schema';

const graphqlEndpoint = '/graphql';

/** The whole service as one fetch handler: GraphQL (with GraphiQL) and the REST API. */
export const yoga = createYoga<Record<string, unknown>, Context>({
  schema,
  graphqlEndpoint,
  context: createContext,
  logging: logger,
  renderGraphiQL,
  graphiql: { title: 'chat-gateway' },
  landingPage: false,
  plugins: [
    useRequestLogging(),
    useDocs(schema),
    useRestRoutes(schema, graphqlEndpoint),
    useSofa({
      basePath: '',
      routes: sofaRoutes(),
      // SOFA's types name fets' Response class; at run time any fetch Response does.
      errorHandler: (errors) => restErrorResponse(errors) as never,
      swaggerUI: { endpoint: null as unknown as string },
      openAPI: { endpoint: null as unknown as string },
    }),
  ],
});
