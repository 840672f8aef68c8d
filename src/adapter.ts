import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DatabaseConfig } from './config';
import { postgresMigrationAdapterFactory } from './pg-cli-fixes';

/** The driver adapter for the configured database, for the server's Prisma client. */
export function adapterFactory(database: DatabaseConfig): SqlMigrationAwareDriverAdapterFactory {
  if (database.provider === 'postgresql') {
    return new PrismaPg({ connectionString: database.url, max: database.poolSize });
  }
  fs.mkdirSync(path.dirname(database.file), { recursive: true });
  return new PrismaBetterSQLite3({ url: database.file });
}

/** The driver adapter the Prisma CLI uses (prisma.config.ts). */
export function migrationAdapterFactory(database: DatabaseConfig): SqlMigrationAwareDriverAdapterFactory {
  if (database.provider === 'postgresql') return postgresMigrationAdapterFactory(database.url);
  const factory = adapterFactory(database);
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

/** Where each database's schema and committed migrations live. */
export function prismaPaths(database: DatabaseConfig): { schema: string; migrations: string } {
  return database.provider === 'postgresql'
    ? { schema: 'prisma/postgresql/schema.prisma', migrations: 'prisma/postgresql/migrations' }
    : { schema: 'prisma/schema.prisma', migrations: 'prisma/migrations' };
}
