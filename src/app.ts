import cluster from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type CORSOptions, createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import type pg from 'pg';
import { createAuth } from './auth/identify';
import { createStreamSlots } from './auth/stream-guard';
import type { Config } from './config';
import { createAdapterSql } from './db/adapter-sql';
import { postgresPool } from './db/adapters';
import { createDb, prepareDb } from './db/client';
import { postgresReader, type SqlReader, type StatementObserver, sqliteReader } from './db/direct';
import { isDatabaseUnavailable } from './db/errors';
import type { Prisma } from './generated/prisma/client';
import { compileRouteOperations, useCompiledExecution } from './graphql/compiled-execution';
import { type Context, contextFactory, type Services } from './graphql/context';
import { useRequestDeadline } from './graphql/deadline';
import { createDirectQueries } from './graphql/direct-queries';
import { createDocumentCache } from './graphql/document-cache';
import { databaseUnavailable } from './graphql/errors';
import { createNodeGraphQLPath } from './graphql/node-path';
import { useOperationMetrics } from './graphql/operation-metrics';
import { createEventBus } from './graphql/pubsub';
import { schema } from './graphql/schema';
import { useCrossSiteWriteCheck } from './http/csrf';
import { withErrorGuard } from './http/errors-guard';
import { renderGraphiQLPage, useGraphiQLFiles } from './http/graphiql';
import { useGraphQLBody } from './http/graphql-body';
import { createHealthChecks, OPERATIONS_PATHS } from './http/health';
import { useHomePage } from './http/home';
import { createLogger, currentRequest, requestLogger, yogaLogger } from './http/logging';
import { createMetrics } from './http/metrics';
import { createNodeAnswers } from './http/node-answer';
import { createRateLimit } from './http/rate-limit';
import { useAcceptCheck, useNoIntrospection } from './http/security';
import { createTracing } from './http/tracing';
import { packageVersion } from './lib/version';
import { type AlertOutbox, createAlertOutbox } from './modules/budgets/outbox';
import { DIRECT_QUERIES } from './modules/chats/direct-reads';
import { useFeedbackExport } from './modules/feedback/export';
import { useChatImport } from './modules/imports/route';
import { createRetentionSweeper, type RetentionSweeper } from './modules/retention/sweep';
import { useUsageExport } from './modules/usage/export';
import { readPriceTable } from './modules/usage/pricing';
import { compileRoutes } from './rest/compile';
import { useDocs } from './rest/docs';
import { restErrorHandler } from './rest/errors';
import type { GetEnveloped } from './rest/execute';
import { createNodeRestPath } from './rest/node-path';
import { openApiOptions } from './rest/openapi';
import { useRestRoutes } from './rest/plugin';

export const GRAPHQL_ENDPOINT = '/graphql';

type YogaServer = YogaServerInstance<Record<string, unknown>, Context>;

/** One running gateway: its request handler, the services behind it, and how to stop it. */
export type Gateway = Readonly<{
  /** The whole service as one fetch-API handler: `yoga.fetch(request)`. */
  yoga: ReturnType<typeof withErrorGuard>;
  /**
   * The whole service as a Node request listener, for `http.createServer(listener)`: plain REST
   * requests and /graphql queries take the Node fast paths (src/rest/node-path.ts,
   * src/graphql/node-path.ts), everything else goes to `yoga`.
   */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Requests the Node fast paths served (REST's; GraphQL's, with those it handed to Yoga). */
  nodePathStats(): { served: number; graphql: { served: number; direct: number; handedOff: number } };
  services: Services;
  /**
   * On shutdown: from now on `/ready` answers 503, so load balancers send no new requests, and every
   * live-update stream ends with a SERVICE_UNAVAILABLE event (then completes).
   */
  drain(): void;
  /** Closes what the gateway opened: the database client, Redis connections, timers. */
  close(): Promise<void>;
  /** The retention sweep: `retention.sweep()` runs one now (if this instance gets the lease). */
  retention: Pick<RetentionSweeper, 'sweep'>;
  /** Budget alerts' delivery: `alerts.deliverDue()` sends what is due now. */
  alerts: Pick<AlertOutbox, 'deliverDue'>;
  /** How full the parsed-document cache is. */
  documentCacheStats(): { chars: number; maxChars: number; maxDocument: number; hits: number };
}>;

/** No CORS headers unless origins are configured: browsers on other sites may not call us by default. */
function corsOptions(origins: readonly string[]): CORSOptions | false {
  if (origins.length === 0) return false;
  return {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'x-admin-api-key', 'x-request-id'],
    credentials: false,
  };
}

/**
 * Builds a gateway from its configuration: every service it uses (database client, pub/sub, rate
 * limiter, price table, verifying keys, stream caps, logger, metrics) is made here and nowhere
 * else, so gateways with different configurations can live side by side in one process.
 */
export async function createGateway(config: Config): Promise<Gateway> {
  // First what opens nothing: a route map or a price file these settings cannot use stops the start here.
  const restRoutes = compileRoutes(schema, config);
  const compiledRoutes = config.restCompiledExecution ? compileRouteOperations(schema, restRoutes) : null;
  const prices = readPriceTable(config.pricesFile);
  const logger = createLogger(config.logLevel);
  if (compiledRoutes?.failed.length) {
    // Served all the same, by the executor: only slower.
    logger.warn({ routes: compiledRoutes.failed }, 'REST routes the compiler could not compile run interpreted');
  }
  const metrics = createMetrics();
  const tracing = config.tracing
    ? createTracing(config.tracing, { database: config.database.provider, version: packageVersion(), logger })
    : null;

  // Then what opens connections or timers, each closed (last first) by close() or by a failed start.
  const closers: (() => unknown)[] = [];
  const closeAll = async () => {
    for (const closer of closers.reverse()) await Promise.resolve(closer()).catch(() => undefined);
  };
  try {
    // Spans still buffered are sent when the gateway closes.
    if (tracing) closers.push(() => tracing.shutdown());
    // Prisma's adapter and the direct reads share PostgreSQL's pool. The adapter ends it when it
    // disconnects, if it ever connected; otherwise this does, after it (closers run last first).
    const pool = config.database.provider === 'postgresql' ? postgresPool(config.database) : null;
    if (pool) {
      // An idle connection the server dropped (a restart, idle_session_timeout) is an 'error'
      // event on the pool, which would end the process unheard before Prisma's adapter listens.
      pool.on('error', (error) => logger.warn({ err: error }, 'an idle PostgreSQL connection failed'));
      closers.push(() => (pool.ended ? undefined : pool.end()));
    }
    // Every statement, Prisma's and the direct reads' (db/direct.ts), is observed the same way.
    const logStatements = logger.isLevelEnabled('debug');
    // A statement's span and debug line name the request that ran it, which only its async
    // context can tell (the event fires in it): each request gets one only when something uses
    // it, since on Node 20 and 22 that costs every request (see inRequest in http/logging.ts).
    const propagate = tracing !== null || logStatements;
    const observeStatement: StatementObserver = (sql, startedAt, durationMs) => {
      metrics.observeQuery(sql, durationMs);
      if (!propagate) return;
      const request = currentRequest();
      request?.trace?.query(sql, startedAt, durationMs);
      if (logStatements) requestLogger(logger, request).debug({ sql, duration_ms: durationMs }, 'sql');
    };
    // The hottest writes' statements go straight to the adapter the client connects through.
    const adapterSql = createAdapterSql(
      config.database.provider,
      (statement) => db.$queryRaw(statement as Prisma.Sql),
      observeStatement,
    );
    const db = createDb(config, logger, pool ?? undefined, adapterSql.watch);
    db.$on('query', (event) => observeStatement(event.query, event.timestamp, event.duration));
    closers.push(() => db.$disconnect());
    const sql =
      config.restDirectReads || config.graphqlDirectReads ? directSql(config.database, pool, observeStatement) : null;
    // Closed before the database (closers run last first).
    if (sql) closers.push(() => sql.close());
    const pubsub = createEventBus({
      redisUrl: config.redisUrl,
      prefix: config.redisPrefix,
      capacity: config.sseMaxQueuedEvents,
      // Only a forked worker has a primary to relay through (a test may set WEB_CONCURRENCY alone).
      clusterWorker: config.webConcurrency > 1 && cluster.isWorker,
      logger,
      metrics,
    });
    closers.push(() => pubsub.close());
    const auth = createAuth(config, db);
    const streams = createStreamSlots(
      { total: config.sseMaxStreams, perCaller: config.sseMaxStreamsPerCaller },
      metrics,
    );
    // Open subscriptions end before the event bus and the database close.
    closers.push(() => streams.endAll('closing'));
    // Budget alerts go out from the database (an outbox), stopped before the database closes.
    const alerts = createAlertOutbox({ db, logger, config });
    closers.push(() => alerts.stop());
    const services: Services = Object.freeze({
      config,
      db,
      sql,
      adapterSql: adapterSql.sql,
      pubsub,
      auth,
      prices,
      streams,
      logger,
      metrics,
      alerts,
    });
    // Every RETENTION_SWEEP_INTERVAL_SECONDS, on one instance at a time; stopped before the database closes.
    const retention = createRetentionSweeper(services);
    closers.push(() => retention.stop());
    const health = createHealthChecks({
      db,
      database: config.database,
      graphqlEndpoint: GRAPHQL_ENDPOINT,
      loggerFor: (request) => requestLogger(logger, request),
      metrics,
      metricsToken: config.metricsToken,
    });
    const rateLimit = createRateLimit({
      perMinute: config.rateLimitPerMinute,
      redis: config.redisUrl ? { url: config.redisUrl, prefix: config.redisPrefix } : null,
      graphqlEndpoint: GRAPHQL_ENDPOINT,
      exempt: new Set(Object.values(OPERATIONS_PATHS)),
      auth,
      logger,
      metrics,
    });
    closers.push(() => rateLimit.close());
    const documentCache = createDocumentCache();
    await prepareDb(db, config, logger);
    retention.start();
    alerts.start();

    const onRestErrors = restErrorHandler({ bearer: config.auth.mode === 'jwt', logger });
    let getEnveloped: GetEnveloped | undefined;
    // Set once Yoga and its outer layer are built, below; the fast paths take nothing before.
    let yogaServer: YogaServer | undefined;
    let viaYoga: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
    // Rate limits and CORS are applied by Yoga's plugins only: with either on, everything stays in Yoga.
    const fastPaths = config.rateLimitPerMinute === 0 && config.corsOrigins.length === 0;
    const answers = createNodeAnswers({ logger, metrics, tracing, propagate });
    const directQueries = createDirectQueries({
      queries: DIRECT_QUERIES,
      routes: restRoutes,
      enabled: config.graphqlDirectReads,
    });
    const nodePath =
      config.restNodePath && fastPaths
        ? createNodeRestPath({
            routes: restRoutes,
            maxBodyBytes: config.maxBodyBytes,
            onErrors: onRestErrors,
            getEnveloped: () => getEnveloped,
            closed: health.stopped,
            answers,
          })
        : null;
    const graphqlPath =
      config.graphqlNodePath && fastPaths
        ? createNodeGraphQLPath({
            endpoint: GRAPHQL_ENDPOINT,
            maxBodyBytes: config.maxBodyBytes,
            closed: health.stopped,
            answers,
            parsed: documentCache.peek,
            direct: directQueries,
            schema,
            logger,
            yoga: () => (viaYoga ? yogaServer : undefined),
            viaYoga: (req, res) => viaYoga?.(req, res),
          })
        : null;

    const app = createYoga<Record<string, unknown>, Context>({
      schema,
      graphqlEndpoint: GRAPHQL_ENDPOINT,
      context: contextFactory(services),
      logging: yogaLogger(logger),
      // A small page; its megabytes of scripts are separate, cacheable files (useGraphiQLFiles).
      renderGraphiQL: renderGraphiQLPage,
      graphiql: config.enableGraphiql ? { title: 'chat-gateway' } : false,
      // Bodies are read and limited by useGraphQLBody (POST /graphql) and useRestRoutes.
      maxRequestBodySize: false,
      parserAndValidationCache: documentCache.option,
      landingPage: false,
      // Yoga's own check matches any URL *ending* in /health; ours (createHealthChecks) matches exactly.
      healthCheckEndpoint: '/.well-known/yoga-health',
      cors: corsOptions(config.corsOrigins),
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
        health.plugin,
        useHomePage({ graphqlEndpoint: GRAPHQL_ENDPOINT, graphiql: config.enableGraphiql }),
        ...(config.enableGraphiql ? [useGraphiQLFiles(GRAPHQL_ENDPOINT)] : []),
        useCrossSiteWriteCheck(GRAPHQL_ENDPOINT, config.corsOrigins),
        rateLimit.plugin,
        useAcceptCheck(GRAPHQL_ENDPOINT),
        useGraphQLBody(config.maxBodyBytes),
        useDocs(restRoutes, openApiOptions(config)),
        useUsageExport({ db, auth, logger, bearer: config.auth.mode === 'jwt' }),
        useFeedbackExport({ db, auth, logger, bearer: config.auth.mode === 'jwt' }),
        useChatImport(services),
        useRestRoutes(restRoutes, {
          graphqlEndpoint: GRAPHQL_ENDPOINT,
          maxBodyBytes: config.maxBodyBytes,
          onErrors: onRestErrors,
          onGetEnveloped: (fromYoga) => {
            getEnveloped = fromYoga;
          },
        }),
        ...(config.enableIntrospection ? [] : [useNoIntrospection()]),
        // Before the deadline, which wraps whatever executes.
        useCompiledExecution({
          routes: restRoutes,
          compiledRoutes: compiledRoutes?.compiled ?? null,
          compileAfter: config.graphqlCompileAfter,
        }),
        // After the compiled execution, which it falls back to.
        directQueries.plugin,
        useRequestDeadline(config.requestDeadlineMs, logger),
        useOperationMetrics(metrics),
        ...(graphqlPath ? [graphqlPath.plugin] : []),
      ],
    });
    yogaServer = app;

    closers.push(() => app.dispose());
    // Requests after close() are refused before they reach anything closed (Prisma would reconnect).
    closers.push(() => health.stop());

    let closed: Promise<void> | undefined;
    // Request logging and security headers sit in the guard, so they cover its own answers too.
    const yoga = withErrorGuard(app, { graphqlEndpoint: GRAPHQL_ENDPOINT, logger, metrics, tracing, propagate });
    viaYoga = yoga;
    return Object.freeze({
      yoga,
      listener:
        nodePath || graphqlPath
          ? (req: IncomingMessage, res: ServerResponse) => {
              // GraphQL's first: its check is one comparison of the path, REST's parses the URL.
              if (graphqlPath?.take(req, res) || nodePath?.take(req, res)) return;
              yoga(req, res);
            }
          : yoga,
      nodePathStats: () => ({
        served: nodePath?.stats.served ?? 0,
        graphql: {
          served: graphqlPath?.stats.served ?? 0,
          direct: graphqlPath?.stats.direct ?? 0,
          handedOff: graphqlPath?.stats.handedOff ?? 0,
        },
      }),
      services,
      drain() {
        // /ready answers 503 from now on, and every live-update stream ends with an event saying
        // why, so that draining does not wait SHUTDOWN_TIMEOUT_MS for subscribers and then cut them.
        health.drain();
        streams.endAll('draining');
      },
      close() {
        closed ??= closeAll();
        return closed;
      },
      documentCacheStats: documentCache.stats,
      retention: { sweep: retention.sweep },
      alerts: { deliverDue: alerts.deliverDue },
    });
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** The direct reads' SQL (db/direct.ts): on PostgreSQL through Prisma's pool, on SQLite a second connection. */
function directSql(database: Config['database'], pool: pg.Pool | null, observe: StatementObserver): SqlReader | null {
  if (database.provider === 'sqlite') return sqliteReader(database.file, observe);
  return pool && postgresReader(pool, observe);
}
