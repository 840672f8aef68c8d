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
 *
 * A kept statement's columns are read once too: better-sqlite3 builds a new array of column objects
 * on every `columns()` call (about 2% of a chat read's CPU). better-sqlite3 reads them from the
 * statement as first prepared, even after a schema change made SQLite re-prepare it, so a statement
 * whose columns follow a table's (`SELECT *`) would answer the old columns: those are never kept.
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

/** A kept statement, with its columns once read. */
type Kept = { statement: Statement; columns: unknown[] | null };

/** True for SQL whose result columns follow the table's (`SELECT *`, `t.*`): not `COUNT(*)`. */
export const selectsStar = (sql: string) => /(^|[^(])\*/.test(sql);

/** Makes every connection the factory opens keep its prepared statements. */
export function reuseStatements(factory: SqlMigrationAwareDriverAdapterFactory): void {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => reusingStatements(await connect());
}

function reusingStatements<T extends SqlDriverAdapter>(adapter: T): T {
  const db = (adapter as unknown as { client: SqliteConnection }).client;
  const prepare = db.prepare.bind(db);
  const statements = new Lru<string, Kept>(MAX_STATEMENTS);
  db.prepare = (sql: string) => {
    let kept = statements.get(sql);
    if (kept === undefined) {
      statementCacheStats.prepared++;
      kept = { statement: prepare(sql), columns: null };
      if (!selectsStar(sql)) statements.set(sql, kept);
    } else {
      statementCacheStats.reused++;
    }
    const entry = kept;
    const statement = entry.statement;
    return {
      bind: (params: unknown[]) => ({
        reader: statement.reader,
        run: () => statement.run(params),
        columns: () => {
          entry.columns ??= statement.columns();
          return entry.columns;
        },
        raw: () => ({ all: () => statement.raw(true).all(params) }),
      }),
      run: () => statement.run([]),
    } as unknown as Statement;
  };
  return adapter;
}
