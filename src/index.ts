import cluster from 'node:cluster';
import { createServer, type ServerResponse } from 'node:http';
import os from 'node:os';
import v8 from 'node:v8';
import { createGateway, type Gateway } from './app';
import { runPrimary } from './cluster';
import { ConfigError, loadConfig } from './config';
import { logStartBanner, warnIfOpen } from './http/banner';
import { answerClientError } from './http/client-errors';
import { createLogger } from './http/logging';
import { concurrentMarking } from './lib/gc';

/*
 * The process: read the configuration, build the gateway, listen, and drain on SIGTERM/SIGINT.
 * Everything else is in createGateway (src/app.ts).
 */

function listen(gateway: Gateway): void {
  const { config, logger } = gateway.services;
  let stopping = false;
  // Responses begun before the stop: those whose headers are not written yet say `close` too, so
  // that no client sends its next request on a connection we are about to end.
  const inFlight = new Set<ServerResponse>();
  const server = createServer(
    {
      // A client gets REQUEST_TIMEOUT_MS to send its whole request, and at most 10 s of that for
      // the headers (Node's defaults: 300 s and 60 s, which lets slow clients hold connections).
      // Only receiving the request counts: a long response, such as an SSE stream, is not cut.
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: Math.min(config.requestTimeoutMs, 10_000),
      // How often Node looks for requests past those limits (default 30 s, longer than the limits).
      connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs / 4),
    },
    (req, res) => {
      // Once stopping, answer what is in flight but let no client reuse its keep-alive connection:
      // close() only refuses new connections, and a busy client would keep an old one forever.
      if (stopping) res.setHeader('connection', 'close');
      else {
        inFlight.add(res);
        res.once('close', () => inFlight.delete(res));
      }
      gateway.listener(req, res);
    },
  );
  server.on('clientError', (error, socket) => answerClientError(logger, error, socket));
  // Longer than the usual load-balancer idle timeout (60 s), so the balancer closes first.
  server.keepAliveTimeout = 65_000;
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const worker = cluster.isWorker ? ` (worker ${cluster.worker?.id}, pid ${process.pid})` : '';
    logStartBanner(logger, config, `http://${config.host}:${port}`, worker);
    if (!cluster.isWorker || cluster.worker?.id === 1) warnIfOpen(logger, config);
    if (!config.redisUrl && cluster.worker?.id === 1) {
      logger.info(
        'rate limits count per worker; set REDIS_URL to share them (live updates reach every worker either way)',
      );
    } else if (!config.redisUrl && !cluster.isWorker) {
      logger.info(
        'live updates and rate limits are in this process only; set REDIS_URL to share them between instances',
      );
    }
  });

  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    inFlight.clear();
    gateway.drain();
    const force = setTimeout(() => {
      logger.warn(`requests still running after ${config.shutdownTimeoutMs} ms; closing their connections`);
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    // close() stops accepting and calls back once every connection has ended. Keep-alive
    // connections that fall idle while others drain would hold it open: sweep them as they do.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    server.close(async () => {
      clearTimeout(force);
      clearInterval(sweep);
      await gateway.close();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    // Before there is a configured logger: one plain line saying which setting is wrong.
    if (!(error instanceof ConfigError)) throw error;
    createLogger('info').fatal(`invalid configuration: ${error.message}`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  if (config.webConcurrency > 1 && cluster.isPrimary) {
    runPrimary(config, logger);
    return;
  }

  // Request garbage is short-lived, and V8's default lets the heap double before a full GC: under
  // load that held ~110 MB of dead objects (peak RSS 295 MB). A smaller step costs no measurable
  // throughput (npm run bench) and, unlike --max-old-space-size, sets no ceiling to crash into.
  v8.setFlagsFromString(`--heap-growing-percent=${config.heapGrowthPercent}`);
  // V8 marks the heap for a full GC on helper threads beside the main one. With one CPU to run on
  // (the process pinned to one, by taskset or a cpuset) those threads run only by preempting the
  // main thread, tens of ms at a time, and every request in flight waits: p99 was 7 to 8 times
  // p50 on the direct reads. Marked in small steps on the main thread instead, their p99 fell by
  // 30 to 50% at the same CPU per request, for about 30 MB more peak RSS (bench/README.md). With
  // more CPUs the helper threads cost the main thread nothing, and are kept. A container limited
  // by a CPU quota rather than pinned may count as several CPUs here: set
  // GC_CONCURRENT_MARKING=off there. Switching it at run time is safe as long as parallel marking
  // stays on (its default): V8 then still joins a helper job already started when the marking
  // cycle ends, and schedules no new one (checked on Node 20 and 24 under load; switching
  // parallel marking off this way aborts V8).
  const cpus = os.availableParallelism();
  if (!concurrentMarking(config.gcConcurrentMarking, cpus)) {
    v8.setFlagsFromString('--no-concurrent-marking');
    logger.info(
      { cpus, gc_concurrent_marking: config.gcConcurrentMarking },
      'V8 marks the heap on the main thread (one CPU to run on, or GC_CONCURRENT_MARKING=off)',
    );
  } else if (config.gcConcurrentMarking === 'on') {
    // As set, even against a --no-concurrent-marking in NODE_OPTIONS.
    v8.setFlagsFromString('--concurrent-marking');
  }

  let gateway: Gateway | undefined;
  // A promise nobody handled is a bug, but not one worth losing every connection over: log it with
  // what we know (the request it came from, if any, through the logger's context) and go on. An
  // uncaught exception leaves the process in an unknown state: log it and exit, for the supervisor
  // to restart us.
  process.on('unhandledRejection', (reason) => {
    gateway?.services.metrics.increment('unhandled_rejections_total');
    logger.error({ err: reason }, 'unhandled promise rejection');
  });
  process.on('uncaughtException', (error, origin) => {
    logger.fatal({ err: error, origin }, 'uncaught exception; exiting');
    process.exit(1);
  });

  try {
    gateway = await createGateway(config);
  } catch (error) {
    logger.fatal(error, 'start-up failed');
    process.exit(1);
  }
  listen(gateway);
}

main().catch((error) => {
  createLogger('info').fatal(error, 'start-up failed');
  process.exit(1);
});
