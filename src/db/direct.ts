import Database from 'better-sqlite3';
import type pg from 'pg';
import type { DatabaseConfig } from '../config';

/*
 * Read-only SQL sent to the database without the Prisma client, for the few hot REST reads that
 * src/rest/direct.ts serves without the GraphQL executor. Prisma's client was about a fifth of a
 * chat read's CPU; these reads are a few fixed statements, written once per database.
 *
 * - SQLite: a second connection to the same file. The file is in WAL mode (db/client.ts), so it
 *   reads what Prisma's connection has committed, beside it; it is `query_only`, so nothing sent
 *   here can write. Statements are prepared once and kept (there are a handful).
 * - PostgreSQL: the pool Prisma's adapter uses (db/adapters.ts), so the connection limit is one;
 *   its queries are prepared per connection like Prisma's (db/pg-statements.ts). Every column
 *   comes back as PostgreSQL's text, so a timestamp is never read in the process' time zone.
 *
 * Every statement is reported to `observe`, as Prisma's are through its query events: the SQL
 * metrics, the request's trace and the debug log see both alike.
 */

export type Row = Record<string, unknown>;

export type SqlReader = {
  readonly dialect: DatabaseConfig['provider'];
  /**
   * The rows of one read-only statement: `?` placeholders on SQLite, `$1`... on PostgreSQL.
   * SQLite gives integers as numbers and text as strings; PostgreSQL gives every column as text.
   */
  rows(sql: string, params: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
};

/** A statement run, as Prisma's query event reports one. */
export type StatementObserver = (sql: string, startedAt: Date, durationMs: number) => void;

/** Every column as the text PostgreSQL sends. */
const TEXT_ONLY = { getTypeParser: () => (value: string) => value };

/** How many statements a SQLite connection keeps prepared; the readers use a few fixed texts. */
const MAX_KEPT = 32;

export function sqliteReader(file: string, observe: StatementObserver): SqlReader {
  let connection: Database.Database | null = null;
  let closed = false;
  const kept = new Map<string, Database.Statement>();
  // Opened at the first read: by then the gateway has connected and the file exists.
  const open = () => {
    if (closed) throw new Error('the SQLite reader is closed');
    if (!connection) {
      connection = new Database(file, { fileMustExist: true });
      connection.pragma('query_only = ON');
    }
    return connection;
  };
  const prepared = (sql: string) => {
    let statement = kept.get(sql);
    if (!statement) {
      statement = open().prepare(sql);
      if (kept.size < MAX_KEPT) kept.set(sql, statement);
    }
    return statement;
  };
  return {
    dialect: 'sqlite',
    async rows(sql, params) {
      const startedAt = new Date();
      const start = performance.now();
      const rows = prepared(sql).all(...params) as Row[];
      observe(sql, startedAt, performance.now() - start);
      return rows;
    },
    async close() {
      closed = true;
      kept.clear();
      connection?.close();
      connection = null;
    },
  };
}

/** Reads through `pool`, which its owner (Prisma's adapter) ends: closing this ends nothing. */
export function postgresReader(pool: pg.Pool, observe: StatementObserver): SqlReader {
  return {
    dialect: 'postgresql',
    async rows(sql, params) {
      const startedAt = new Date();
      const start = performance.now();
      const result = await pool.query({ text: sql, values: params as unknown[], types: TEXT_ONLY });
      observe(sql, startedAt, performance.now() - start);
      return result.rows as Row[];
    },
    async close() {},
  };
}
