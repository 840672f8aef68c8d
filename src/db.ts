import { adapterFactory } from './adapter';
import { config } from './config';
import { PrismaClient } from './generated/prisma/client';
import { logger } from './logger';

// Query events let tests count the SQL a request runs (the N+1 guard) and operators see it at debug level.
export const prisma = new PrismaClient({
  adapter: adapterFactory(config.database),
  log: [{ emit: 'event', level: 'query' }],
});

if (logger.isLevelEnabled('debug')) {
  prisma.$on('query', (event) => logger.debug({ sql: event.query, duration_ms: event.duration }, 'sql'));
}

/**
 * Settings of the database file and of this process' connection. WAL lets readers run beside a
 * writer and survives a killed process; `synchronous = NORMAL` is the usual partner of WAL (a
 * power cut may lose the last commits, a crash of the process loses nothing).
 */
export async function prepareDatabase(): Promise<void> {
  await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await prisma.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  await prisma.$queryRawUnsafe('PRAGMA foreign_keys = ON');
}
