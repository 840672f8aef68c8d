import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config';
import { isRelayedEvent } from './graphql/pubsub';
import type { Logger } from './http/logging';

/*
 * WEB_CONCURRENCY > 1: this process becomes the cluster's primary. It serves nothing itself; it
 * forks that many workers (each runs src/index.ts as a whole gateway on the shared port), starts a
 * new one when one dies, replaces them one at a time on SIGHUP (a restart that drops no request),
 * relays live-update events between them when there is no Redis, and on SIGTERM/SIGINT lets each
 * worker drain as a single process would, then exits.
 */

/** A worker that dies within this long after it started listening counts as crashing at start. */
const STABLE_AFTER_MS = 10_000;
const MAX_RESPAWN_DELAY_MS = 30_000;

export function runPrimary(config: Config, logger: Logger): void {
  const size = config.webConcurrency;
  // Workers the primary expects to exit (replaced or stopping): their exit is not a crash.
  const leaving = new WeakSet<Worker>();
  const listeningSince = new WeakMap<Worker, number>();
  let everListened = false;
  let stopping = false;
  let respawnDelay = 0;
  // Our own list of live workers: a worker leaves cluster.workers as soon as it is disconnected
  // (see retire), long before it has finished its requests and exited.
  const alive = new Set<Worker>();

  const fork = (): Worker => {
    const worker = cluster.fork();
    alive.add(worker);
    worker.once('exit', () => alive.delete(worker));
    worker.on('listening', () => {
      listeningSince.set(worker, Date.now());
      if (!everListened) logger.info({ workers: size }, 'cluster: first worker listening');
      everListened = true;
    });
    worker.on('message', (message: unknown) => {
      if (!isRelayedEvent(message)) return;
      for (const other of Object.values(cluster.workers ?? {})) {
        if (other && other !== worker && other.isConnected()) other.send(message, undefined, () => undefined);
      }
    });
    return worker;
  };

  /*
   * Stops a worker without losing a connection. With round-robin scheduling (Node's default on
   * Linux) this process accepts each connection and hands it to a worker over IPC. A worker that
   * closes its server tells us so by a message, but until we have read it we go on handing it
   * connections; it sends back those it reads, and one still in the pipe when it exits is never
   * answered (1 restart in 8 under load lost one). Disconnecting the worker from here takes it out
   * of the rotation at once; a connection already on its way arrives before the disconnect, while
   * the worker's server is still open, and is served.
   */
  const retire = (worker: Worker) => {
    if (worker.isConnected()) worker.disconnect();
    worker.process.kill('SIGTERM');
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (alive.size === 0) {
        logger.info('cluster: every worker stopped');
        // 0 after SIGTERM; 1 (process.exitCode) when stopping because the workers could not start.
        process.exit();
      }
      return;
    }
    if (leaving.has(worker)) return;
    const since = listeningSince.get(worker);
    // A worker that never started (a database that cannot be reached, a port in use) before any
    // ever did: the next would fail the same way. Stop, for the supervisor to see and report it.
    if (!everListened) {
      logger.fatal({ pid: worker.process.pid, code, signal }, 'cluster: a worker failed to start; stopping');
      stopping = true;
      for (const other of alive) other.process.kill('SIGTERM');
      process.exitCode = 1;
      if (alive.size === 0) process.exit(1);
      return;
    }
    // Crashing again and again: wait longer each time, so the machine is not spent on restarts.
    const unstable = since === undefined || Date.now() - since < STABLE_AFTER_MS;
    respawnDelay = unstable ? Math.min(MAX_RESPAWN_DELAY_MS, Math.max(500, respawnDelay * 2)) : 0;
    logger.error(
      { pid: worker.process.pid, code, signal, restart_in_ms: respawnDelay },
      'cluster: a worker exited; starting another',
    );
    setTimeout(() => {
      if (!stopping) fork();
    }, respawnDelay).unref();
  });

  /** Replaces the workers one by one: each new one listens before the old one is told to drain. */
  let restarting = false;
  const rollingRestart = async () => {
    if (restarting || stopping) return;
    restarting = true;
    logger.info('cluster: SIGHUP, replacing workers one at a time');
    try {
      for (const old of [...alive]) {
        if (stopping) continue;
        const fresh = fork();
        const started = await new Promise<boolean>((resolve) => {
          fresh.once('listening', () => resolve(true));
          fresh.once('exit', () => resolve(false));
        });
        if (!started) {
          logger.error('cluster: a new worker failed to start; the old workers keep serving');
          return;
        }
        leaving.add(old);
        const gone = new Promise((resolve) => old.once('exit', resolve));
        retire(old);
        await gone;
      }
      logger.info('cluster: every worker replaced');
    } finally {
      restarting = false;
    }
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'cluster: stopping; each worker finishes its requests in flight');
    if (alive.size === 0) process.exit(0);
    // Once the last worker is out of the rotation the shared port closes: new connections are
    // refused (a load balancer moves on) while the workers finish what they accepted.
    for (const worker of alive) retire(worker);
    // Each worker ends its own connections after SHUTDOWN_TIMEOUT_MS; this is for one that hangs.
    setTimeout(() => {
      logger.warn('cluster: workers still running after the shutdown timeout; killing them');
      for (const worker of alive) worker.process.kill('SIGKILL');
    }, config.shutdownTimeoutMs + 5000).unref();
  };

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => void rollingRestart());

  logger.info({ pid: process.pid, workers: size }, `chat-gateway cluster: starting ${size} workers`);
  for (let i = 0; i < size; i++) fork();
}
