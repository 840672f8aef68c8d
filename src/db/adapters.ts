import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import type { DatabaseConfig } from '../config';
import { namingClient, StatementNames } from './pg-statements';

/**
 * The driver adapter for the configured database, for the server's Prisma client, as the library
 * ships it (src/db/patches/ adds what it lacks). The Prisma CLI has its own: prisma/cli/adapters.ts.
 */
export function adapterFactory(database: DatabaseConfig): SqlMigrationAwareDriverAdapterFactory {
  if (database.provider === 'postgresql') {
    // A bounded wait for a connection: a database host that stops answering (a partition) fails
    // requests with 503 in seconds instead of holding them for the OS's TCP timeout.
    const config: pg.PoolConfig = {
      connectionString: database.url,
      max: database.poolSize,
      connectionTimeoutMillis: 5000,
    };
    if (!database.preparedStatements) return new PrismaPg(config);
    // Our pool (the adapter's own would use pg's plain Client), ended with the adapter.
    const pool = new pg.Pool({ ...config, Client: namingClient(new StatementNames()) });
    return new PrismaPg(pool, { disposeExternalPool: true });
  }
  fs.mkdirSync(path.dirname(database.file), { recursive: true });
  return new PrismaBetterSQLite3({ url: database.file });
}
