import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DatabaseConfig } from '../../src/config';
import { postgresMigrationAdapterFactory } from './pg-fixes';

/*
 * The driver adapters the Prisma CLI uses (prisma.config.ts): migrate deploy and migrate diff.
 * They live outside src/ because the server never needs them.
 */

export function migrationAdapterFactory(database: DatabaseConfig): SqlMigrationAwareDriverAdapterFactory {
  if (database.provider === 'postgresql') return postgresMigrationAdapterFactory(database.url);
  fs.mkdirSync(path.dirname(database.file), { recursive: true });
  const factory = new PrismaBetterSQLite3({ url: database.file });
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: () => factory.connect(),
    connectToShadowDb: async () => scriptFriendly(await factory.connectToShadowDb()),
  };
}

/**
 * `migrate diff --from-migrations` replays every migration file on a shadow database as one
 * parameterless `executeRaw`, and better-sqlite3's prepare() refuses more than one statement,
 * so on the SQLite shadow connection such calls go through `executeScript`.
 */
function scriptFriendly(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const executeRaw = adapter.executeRaw.bind(adapter);
  adapter.executeRaw = async (query) => {
    if (query.args.length > 0) return executeRaw(query);
    await adapter.executeScript(query.sql);
    return 0;
  };
  return adapter;
}
