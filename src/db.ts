import { adapterFactory } from './adapter';
import { config } from './config';
import { patchAdapter, patchClient } from './db/patches';
import { PrismaClient } from './generated/prisma/client';
import { logger } from './logger';

// The two generated clients have the same API (one schema); they differ in the SQL they compile to.
// Only the configured one is loaded.
const Client =
  config.database.provider === 'postgresql'
    ? ((require('./generated/prisma-postgresql/client') as typeof import('./generated/prisma-postgresql/client'))
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

// Prisma's codes for "cannot reach / lost / timed out waiting for the database", and the driver
// adapters' kinds for the same, found on the error's `meta.driverAdapterError`.
const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const UNAVAILABLE_MESSAGE =
  /Can't reach database server|Connection terminated|ECONNREFUSED|ECONNRESET|database is locked|SQLITE_BUSY/;

/**
 * The database could not be reached or answered too late: the request may succeed if retried
 * (503), unlike a bug (500). Looks through GraphQL's wrapping and the driver adapter's cause.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const e = current as Error & {
      code?: unknown;
      meta?: { driverAdapterError?: { cause?: { kind?: unknown } } };
      originalError?: unknown;
    };
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    const kind = e.meta?.driverAdapterError?.cause?.kind;
    if (typeof kind === 'string' && UNAVAILABLE_KINDS.has(kind)) return true;
    if (e.name.startsWith('PrismaClient') && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    if (e.name === 'PrismaClientInitializationError') return true;
    current = e.originalError ?? e.cause;
  }
  return false;
}

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
