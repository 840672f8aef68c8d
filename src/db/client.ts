import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type pg from 'pg';
import type { Config } from '../config';
import { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../http/logging';
import { adapterFactory } from './adapters';
import { patchAdapter, patchClient } from './patches';

/**
 * The Prisma client the gateway runs on: the SQLite one's type (the PostgreSQL one has the same
 * API), with query events on.
 */
export type Db = PrismaClient<'query'>;

/**
 * A Prisma client for the configured database, patched as PRISMA_PATCHES allows. The two
 * generated clients have the same API (one schema); they differ in the SQL they compile to, and
 * only the configured one is loaded. On PostgreSQL it runs on `pool` when given (adapters.ts).
 */
export function createDb(
  config: Config,
  logger: Logger,
  pool?: pg.Pool,
  /** Sees the adapter factory the client will connect through (db/adapter-sql.ts watches it). */
  watch: (factory: SqlMigrationAwareDriverAdapterFactory) => SqlMigrationAwareDriverAdapterFactory = (f) => f,
): Db {
  const Client =
    config.database.provider === 'postgresql'
      ? ((require('../generated/prisma-postgresql/client') as typeof import('../generated/prisma-postgresql/client'))
          .PrismaClient as unknown as typeof PrismaClient)
      : PrismaClient;
  const patches = { enabled: config.prismaPatches, logger };
  // Query events let tests count the SQL a request runs (the N+1 guard); createGateway observes
  // them (metrics, spans, the debug log) as it observes the direct reads' statements.
  const db: Db = new Client({
    adapter: watch(patchAdapter(adapterFactory(config.database, pool), config.database, patches)),
    log: [{ emit: 'event', level: 'query' }],
  });
  patchClient(db, config.database, patches);
  return db;
}

/**
 * Settings of the SQLite file and of this process' connection. WAL lets readers run beside a
 * writer and survives a killed process; `synchronous = NORMAL` is the usual partner of WAL (a
 * power cut may lose the last commits, a crash of the process loses nothing).
 */
export async function prepareDb(db: Db, config: Config): Promise<void> {
  if (config.database.provider !== 'sqlite') return;
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  await db.$queryRawUnsafe('PRAGMA foreign_keys = ON');
}
