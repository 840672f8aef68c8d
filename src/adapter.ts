import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DatabaseConfig } from './config';
import { Lru } from './lru';
import { postgresMigrationAdapterFactory } from './pg-cli-fixes';

/** The driver adapter for the configured database, for the server's Prisma client. */
export function adapterFactory(database: DatabaseConfig): SqlMigrationAwareDriverAdapterFactory {
  if (database.provider === 'postgresql') {
    return new PrismaPg({ connectionString: database.url, max: database.poolSize });
  }
  const factory = sqliteFactory(database);
  const connect = factory.connect.bind(factory);
  factory.connect = async () => reusingStatements(await connect());
  return factory;
}

function sqliteFactory(database: DatabaseConfig & { provider: 'sqlite' }) {
  fs.mkdirSync(path.dirname(database.file), { recursive: true });
  return new PrismaBetterSQLite3({ url: database.file });
}

type Statement = {
  reader: boolean;
  run(params: unknown[]): unknown;
  columns(): unknown[];
  raw(on: boolean): { all(params: unknown[]): unknown[] };
};
type SqliteConnection = { prepare(sql: string): Statement };

/** Prepared statements kept per connection; the SQL Prisma sends comes in a few dozen shapes. */
const MAX_STATEMENTS = 200;

/**
 * The better-sqlite3 adapter prepares every query anew, which took about 6% of a chat read's CPU.
 * This keeps each connection's statements by SQL text and hands the adapter a single-use view
 * with the call's parameters (a better-sqlite3 statement binds only once). The adapter and its
 * transactions use nothing else of a prepared statement; SQLite re-prepares a kept statement
 * itself after a schema change.
 */
function reusingStatements<T extends SqlDriverAdapter>(adapter: T): T {
  const db = (adapter as unknown as { client: SqliteConnection }).client;
  const prepare = db.prepare.bind(db);
  const statements = new Lru<string, Statement>(MAX_STATEMENTS);
  db.prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = prepare(sql);
      statements.set(sql, statement);
    }
    const kept = statement;
    return {
      bind: (params: unknown[]) => ({
        reader: kept.reader,
        run: () => kept.run(params),
        columns: () => kept.columns(),
        raw: () => ({ all: () => kept.raw(true).all(params) }),
      }),
      run: () => kept.run([]),
    } as unknown as Statement;
  };
  return adapter;
}

/** The driver adapter the Prisma CLI uses (prisma.config.ts). */
export function migrationAdapterFactory(database: DatabaseConfig): SqlMigrationAwareDriverAdapterFactory {
  if (database.provider === 'postgresql') return postgresMigrationAdapterFactory(database.url);
  const factory = sqliteFactory(database);
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
