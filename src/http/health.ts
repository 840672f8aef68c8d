import fs from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'graphql-yoga';
import { config, projectRoot } from '../config';
import { prisma } from '../db/client';
import { prismaPaths } from '../db/paths';
import { detailResponse, HTTP_STATUS_BY_CODE } from '../graphql/errors';
import { logger } from './logging';
import { metrics } from './metrics';

let stopping = false;

/** From now on /ready answers 503, so load balancers stop sending new requests here. */
export function markShuttingDown(): void {
  stopping = true;
}

const expectedMigrations = () =>
  fs
    .readdirSync(path.join(projectRoot(), prismaPaths(config.database).migrations), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

async function notReadyBecause(): Promise<string | null> {
  if (stopping) return 'shutting down';
  let applied: Set<string>;
  try {
    const rows = await prisma.$queryRawUnsafe<{ migration_name: string }[]>(
      'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    applied = new Set(rows.map((row) => row.migration_name));
  } catch (error) {
    logger.warn({ err: error }, 'readiness check: database unreachable');
    return 'database unreachable';
  }
  const pending = expectedMigrations().filter((name) => !applied.has(name));
  return pending.length > 0 ? `migrations not applied: ${pending.join(', ')}` : null;
}

/**
 * `GET /health`: the process is up. `GET /metrics`: counters of what degraded (src/metrics.ts). `GET /ready`: the database answers and every migration is
 * applied (and the process is not shutting down). For load balancers; not part of the REST API docs.
 */
export function useHealthChecks(): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (url.pathname === '/health') return endResponse(Response.json({ status: 'ok' }));
      if (url.pathname === '/metrics') {
        return endResponse(
          new Response(metrics.render(), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } }),
        );
      }
      if (url.pathname !== '/ready') return;
      const reason = await notReadyBecause();
      endResponse(
        reason === null
          ? Response.json({ status: 'ready' })
          : detailResponse(HTTP_STATUS_BY_CODE.SERVICE_UNAVAILABLE, `not ready: ${reason}`),
      );
    },
  };
}
