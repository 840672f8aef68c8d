import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type pg from 'pg';
import type { Config } from '../config';
import { PrismaClient } from '../generated/prisma/client';
import type { Logger } from '../http/logging';
import { adapterFactory } from './adapters';
import { isSqliteBusy } from './errors';
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
export async function prepareDb(db: Db, config: Config, logger: Logger): Promise<void> {
  if (config.database.provider !== 'sqlite') return;
  await switchToWal(db, logger);
  await db.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  await db.$queryRawUnsafe('PRAGMA foreign_keys = ON');
}

/** How long start-up waits for another connection to let go of the file's write lock. */
const WAL_SWITCH_WAIT_MS = 10_000;

/**
 * WAL is a property of the file: the first start on a new file switches it, later starts find it
 * switched. The switch takes the file's write lock, and while another connection holds that lock
 * SQLite answers SQLITE_BUSY at once, without waiting out the busy timeout (the connection already
 * holds a read lock, and waiting could deadlock). The other connection may be a second cluster
 * worker or instance making the same switch at the same moment, or any writer: so wait for it and
 * look again, rather than fail to start.
 */
async function switchToWal(db: Db, logger: Logger): Promise<void> {
  const deadline = Date.now() + WAL_SWITCH_WAIT_MS;
  for (let delay = 10, warned = false; ; delay = Math.min(delay * 2, 250)) {
    const [current] = await db.$queryRawUnsafe<{ journal_mode: string }[]>('PRAGMA journal_mode');
    if (current?.journal_mode === 'wal') return;
    try {
      await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
      return;
    } catch (error) {
      if (!isSqliteBusy(error) || Date.now() + delay > deadline) throw error;
      if (!warned) logger.warn('the SQLite file is locked by another connection; switching it to WAL when it is free');
      warned = true;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
