import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { Lru } from '../../lib/lru';

/*
 * Prepared statements kept per SQLite connection, for @prisma/adapter-better-sqlite3 6.19 over
 * better-sqlite3 12 (src/db/patches/index.ts switches it on only for those versions).
 *
 * The adapter prepares every query anew, which took about 6% of a chat read's CPU. This keeps each
 * connection's statements by SQL text and hands the adapter a single-use view with the call's
 * parameters (a better-sqlite3 statement binds only once). It relies on the adapter's private
 * `client` (the better-sqlite3 Database) and on the adapter using nothing of a prepared statement
 * but `bind(params)` then `reader`, `run()`, `columns()`, `raw().all()`, and `prepare(sql).run()`
 * (test/db/patches.test.ts checks both). SQLite re-prepares a kept statement itself after a schema
 * change.
 */

type Statement = {
  reader: boolean;
  run(params: unknown[]): unknown;
  columns(): unknown[];
  raw(on: boolean): { all(params: unknown[]): unknown[] };
};
type SqliteConnection = { prepare(sql: string): Statement };

/** Prepared statements kept per connection; the SQL Prisma sends comes in a few dozen shapes. */
const MAX_STATEMENTS = 200;

export const statementCacheStats = { prepared: 0, reused: 0 };

/** Makes every connection the factory opens keep its prepared statements. */
export function reuseStatements(factory: SqlMigrationAwareDriverAdapterFactory): void {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => reusingStatements(await connect());
}

function reusingStatements<T extends SqlDriverAdapter>(adapter: T): T {
  const db = (adapter as unknown as { client: SqliteConnection }).client;
  const prepare = db.prepare.bind(db);
  const statements = new Lru<string, Statement>(MAX_STATEMENTS);
  db.prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statementCacheStats.prepared++;
      statement = prepare(sql);
      statements.set(sql, statement);
    } else {
      statementCacheStats.reused++;
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
