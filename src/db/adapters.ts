import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DatabaseConfig } from '../config';

/**
 * The driver adapter for the configured database, for the server's Prisma client, as the library
 * ships it (src/db/patches/ adds what it lacks). The Prisma CLI has its own: prisma/cli/adapters.ts.
 */
export function adapterFactory(database: DatabaseConfig): SqlMigrationAwareDriverAdapterFactory {
  if (database.provider === 'postgresql') {
    // A bounded wait for a connection: a database host that stops answering (a partition) fails
    // requests with 503 in seconds instead of holding them for the OS's TCP timeout.
    return new PrismaPg({ connectionString: database.url, max: database.poolSize, connectionTimeoutMillis: 5000 });
  }
  fs.mkdirSync(path.dirname(database.file), { recursive: true });
  return new PrismaBetterSQLite3({ url: database.file });
}
