import path from 'node:path';
import { type Config, type DatabaseConfig, projectRoot } from '../config';
import { OPERATIONS_PATHS } from './health';
import type { Logger } from './logging';

/** The database in use, as a start-up line may show it: never a password. */
export function describeDatabase(database: DatabaseConfig): string {
  if (database.provider === 'sqlite') {
    const relative = path.relative(projectRoot(), database.file);
    return `SQLite ${relative.startsWith('..') ? database.file : relative}`;
  }
  try {
    const url = new URL(database.url);
    return `PostgreSQL ${url.host}${url.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

/**
 * What a person starting the service needs to know: where its pages are, which database it
 * uses, and (as a warning) that anyone may act as any user while authentication is off.
 */
export function logStartBanner(logger: Logger, config: Config, base: string, worker: string): void {
  logger.info(
    {
      graphql: `${base}/graphql`,
      docs: `${base}/docs`,
      openapi: `${base}/openapi.json`,
      health: `${base}${OPERATIONS_PATHS.health}`,
      ready: `${base}${OPERATIONS_PATHS.ready}`,
      database: describeDatabase(config.database),
    },
    `chat-gateway listening on ${base} (${config.enableGraphiql ? 'GraphiQL' : 'GraphQL'} at /graphql, REST docs at /docs)${worker}`,
  );
}

/** Said once per process (or by the first worker): the service trusts the user_id callers send. */
export function warnIfOpen(logger: Logger, config: Config): void {
  if (config.auth.mode !== 'off') return;
  logger.warn(
    'authentication is off (AUTH_MODE=off): callers act as whichever user_id they send; set AUTH_MODE=jwt or api-key before exposing this service',
  );
}
