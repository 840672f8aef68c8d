import { config } from '../config';
import { PrismaClient } from '../generated/prisma/client';
import { logger } from '../http/logging';
import { adapterFactory } from './adapters';
import { patchAdapter, patchClient } from './patches';

// The two generated clients have the same API (one schema); they differ in the SQL they compile to.
// Only the configured one is loaded.
const Client =
  config.database.provider === 'postgresql'
    ? ((require('../generated/prisma-postgresql/client') as typeof import('../generated/prisma-postgresql/client'))
        .PrismaClient as unknown as typeof PrismaClient)
    : PrismaClient;

// Query events let tests count the SQL a request runs (the N+1 guard) and operators see it at debug level.
export const prisma = new Client({
  adapter: patchAdapter(adapterFactory(config.database), config.database),
  log: [{ emit: 'event', level: 'query' }],
});
patchClient(prisma);

if (logger.isLevelEnabled('debug')) {
  prisma.$on('query', (event) => logger.debug({ sql: event.query, duration_ms: event.duration }, 'sql'));
}

/** A Prisma error with this code, e.g. P2002 (unique violation), P2003 (foreign key), P2025 (no row). */
export function isPrismaError(error: unknown, code: string): boolean {
  return (
    error instanceof Error &&
    error.name === 'PrismaClientKnownRequestError' &&
    (error as Error & { code?: unknown }).code === code
  );
}

export { isDatabaseUnavailable } from './errors';

/**
 * Settings of the SQLite file and of this process' connection. WAL lets readers run beside a
 * writer and survives a killed process; `synchronous = NORMAL` is the usual partner of WAL (a
 * power cut may lose the last commits, a crash of the process loses nothing).
 */
export async function prepareDatabase(): Promise<void> {
  if (config.database.provider !== 'sqlite') return;
  await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await prisma.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  await prisma.$queryRawUnsafe('PRAGMA foreign_keys = ON');
}
