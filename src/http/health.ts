import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'graphql-yoga';
import { type DatabaseConfig, projectRoot } from '../config';
import type { Db } from '../db/client';
import { prismaPaths } from '../db/paths';
import { HTTP_STATUS_BY_CODE } from '../graphql/errors';
import type { Logger } from './logging';
import type { Metrics } from './metrics';
import { detailResponse, errorResponse } from './respond';

/** The operational endpoints: outside the REST API and its docs, never rate limited. */
export const OPERATIONS_PATHS = { health: '/health', ready: '/ready', metrics: '/metrics' } as const;

type HealthOptions = {
  db: Db;
  database: DatabaseConfig;
  graphqlEndpoint: string;
  /** The logger for lines written while serving `request` (requestLogger, in logging.ts). */
  loggerFor: (request: Request) => Pick<Logger, 'warn'>;
  metrics: Pick<Metrics, 'render' | 'contentType'>;
  /** With a token, `/metrics` answers only requests bearing it (METRICS_TOKEN). */
  metricsToken: string | null;
};

/** Whether the request bears `token`, compared in constant time. */
function bearerMatches(request: Request, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1] ?? '';
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

const expectedMigrations = (database: DatabaseConfig) =>
  fs
    .readdirSync(path.join(projectRoot(), prismaPaths(database).migrations), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

async function notReadyBecause({ db, database }: HealthOptions, logger: Pick<Logger, 'warn'>): Promise<string | null> {
  let applied: Set<string>;
  try {
    const rows = await db.$queryRawUnsafe<{ migration_name: string }[]>(
      'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    applied = new Set(rows.map((row) => row.migration_name));
  } catch (error) {
    logger.warn({ err: error }, 'readiness check: database unreachable');
    return 'database unreachable';
  }
  const pending = expectedMigrations(database).filter((name) => !applied.has(name));
  return pending.length > 0 ? `migrations not applied: ${pending.join(', ')}` : null;
}

/**
 * `GET /health`: the process is up. `GET /metrics`: counters of what degraded (src/http/metrics.ts).
 * `GET /ready`: the database answers and every migration is applied, and the gateway is not
 * draining (`drain()`, on shutdown). For load balancers; not part of the REST API docs. Once
 * the gateway is closed (`stop()`), every request is a 503: nothing may reach closed services.
 */
export function createHealthChecks(options: HealthOptions): {
  plugin: Plugin;
  drain(): void;
  stop(): void;
  stopped(): boolean;
} {
  let draining = false;
  let stopped = false;
  const plugin: Plugin = {
    async onRequest({ request, url, endResponse }) {
      if (stopped) {
        const graphql = url.pathname === options.graphqlEndpoint;
        return endResponse(errorResponse(graphql, 'SERVICE_UNAVAILABLE', 'The service is shutting down'));
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (url.pathname === OPERATIONS_PATHS.health) return endResponse(Response.json({ status: 'ok' }));
      if (url.pathname === OPERATIONS_PATHS.metrics) {
        if (options.metricsToken !== null && !bearerMatches(request, options.metricsToken)) {
          return endResponse(
            detailResponse(401, 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>', {
              'www-authenticate': 'Bearer realm="metrics"',
            }),
          );
        }
        return endResponse(
          new Response(await options.metrics.render(), { headers: { 'content-type': options.metrics.contentType } }),
        );
      }
      if (url.pathname !== OPERATIONS_PATHS.ready) return;
      const reason = draining ? 'shutting down' : await notReadyBecause(options, options.loggerFor(request));
      endResponse(
        reason === null
          ? Response.json({ status: 'ready' })
          : detailResponse(HTTP_STATUS_BY_CODE.SERVICE_UNAVAILABLE, `not ready: ${reason}`),
      );
    },
  };
  return {
    plugin,
    drain: () => {
      draining = true;
    },
    stop: () => {
      draining = true;
      stopped = true;
    },
    stopped: () => stopped,
  };
}
