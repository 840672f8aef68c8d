import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DatabaseConfig } from './config';

/** The driver adapter for the configured database; the Prisma client and the CLI both use it. */
export function adapterFactory(database: DatabaseConfig): SqlMigrationAwareDriverAdapterFactory {
  fs.mkdirSync(path.dirname(database.file), { recursive: true });
  return new PrismaBetterSQLite3({ url: database.file });
}

/**
 * The factory the Prisma CLI uses. `migrate diff --from-migrations` replays every migration file
 * on a shadow database as one parameterless `executeRaw`, and better-sqlite3's prepare() refuses
 * more than one statement, so on the shadow connection such calls go through `executeScript`.
 */
export function migrationAdapterFactory(database: DatabaseConfig): SqlMigrationAwareDriverAdapterFactory {
  const factory = adapterFactory(database);
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: () => factory.connect(),
    connectToShadowDb: async () => scriptFriendly(await factory.connectToShadowDb()),
  };
}

function scriptFriendly(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const executeRaw = adapter.executeRaw.bind(adapter);
  adapter.executeRaw = async (query) => {
    if (query.args.length > 0) return executeRaw(query);
    await adapter.executeScript(query.sql);
    return 0;
  };
  return adapter;
}
