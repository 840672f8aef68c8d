import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import type { DatabaseConfig } from '../config';
import { namingClient, StatementNames } from './pg-statements';

/** The PostgreSQL settings of a DatabaseConfig. */
type PostgresConfig = Extract<DatabaseConfig, { provider: 'postgresql' }>;

/**
 * The connection pool of a PostgreSQL database: Prisma's adapter runs on it, and so do the direct
 * reads (db/direct.ts), so the configured pool size bounds both. The adapter ends it.
 */
export function postgresPool(database: PostgresConfig): pg.Pool {
  // A bounded wait for a connection: a database host that stops answering (a partition) fails
  // requests with 503 in seconds instead of holding them for the OS's TCP timeout.
  const config: pg.PoolConfig = {
    connectionString: database.url,
    max: database.poolSize,
    connectionTimeoutMillis: 5000,
  };
  // pg's plain Client unless statements are named (prepared once per connection).
  return new pg.Pool(database.preparedStatements ? { ...config, Client: namingClient(new StatementNames()) } : config);
}

/**
 * The driver adapter for the configured database, for the server's Prisma client, as the library
 * ships it (src/db/patches/ adds what it lacks). The Prisma CLI has its own: prisma/cli/adapters.ts.
 * On PostgreSQL it runs on `pool` (a new one when none is given), and ends it when disconnected.
 */
export function adapterFactory(database: DatabaseConfig, pool?: pg.Pool): SqlMigrationAwareDriverAdapterFactory {
  if (database.provider === 'postgresql') {
    return new PrismaPg(pool ?? postgresPool(database), { disposeExternalPool: true });
  }
  fs.mkdirSync(path.dirname(database.file), { recursive: true });
  return new PrismaBetterSQLite3({ url: database.file });
}
