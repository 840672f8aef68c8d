import pg from 'pg';

/*
 * PostgreSQL parses and plans every unnamed statement it is sent, and Prisma's pg adapter sends
 * each query unnamed. A statement sent with a name is prepared once per connection and then only
 * bound and executed, as Prisma's own Rust engine and most PostgreSQL drivers do by default: the
 * database's CPU per chat read falls by the parse and plan of a lateral join (bench/README.md,
 * "Changes measured"). This uses pg's public API only: a Pool made with our Client class (pg's
 * `Client` option), which names each SQL text it sends.
 *
 * Switched off with DATABASE_PREPARED_STATEMENTS=false, for a connection pooler that cannot keep
 * prepared statements (PgBouncer before 1.21 in transaction mode, or without
 * `max_prepared_statements`), as Prisma's `pgbouncer=true` does.
 */

/** Distinct SQL texts named per pool; beyond, they are sent unnamed (Prisma's SQL comes in a few dozen shapes). */
export const MAX_NAMED_STATEMENTS = 1000;

/** PostgreSQL's answer when a named statement's result columns changed under it (SQLSTATE 0A000). */
const RESULT_TYPE_CHANGED = /cached plan must not change result type/;

/**
 * True when the statement's own result columns may follow a table's: a `*` outside any
 * parentheses (`SELECT *`, `t.*`; a product too, which only costs it its name). A `*` inside a
 * subquery, as in the lateral join Prisma writes for a chat with its messages, leaves the
 * statement's result columns as the outer SELECT lists them.
 */
export function resultFollowsTable(sql: string): boolean {
  let depth = 0;
  let quote: string | null = null;
  for (const char of sql) {
    if (quote !== null) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '(') {
      depth++;
    } else if (char === ')') {
      depth--;
    } else if (char === '*' && depth <= 0) {
      return true;
    }
  }
  return false;
}

/** The name of each SQL text sent, per pool: the same text always gets the same name on every connection. */
export class StatementNames {
  private readonly names = new Map<string, string | null>();
  readonly stats = { named: 0, unnamed: 0 };

  constructor(private readonly max = MAX_NAMED_STATEMENTS) {}

  /** The text's name, or undefined to send it unnamed. */
  nameOf(text: string): string | undefined {
    let name = this.names.get(text);
    if (name === undefined) {
      if (this.names.size >= this.max) {
        this.stats.unnamed++;
        return undefined;
      }
      // Result columns that follow a table's (`SELECT *`) change when a migration adds one, and
      // PostgreSQL then refuses the prepared statement rather than answer other columns: unnamed.
      name = resultFollowsTable(text) ? null : `cg_${this.names.size + 1}`;
      this.names.set(text, name);
    }
    if (name === null) this.stats.unnamed++;
    else this.stats.named++;
    return name ?? undefined;
  }

  /**
   * A prepared statement whose result type changed (a column's type altered while this process
   * runs): that query fails once, and the text is sent unnamed from then on, on every connection.
   */
  noteFailure(text: string, error: unknown): void {
    if (error instanceof Error && RESULT_TYPE_CHANGED.test(error.message)) this.names.set(text, null);
  }
}

type QueryConfig = { text?: unknown; name?: unknown; submit?: unknown };
type Callback = (error: Error | null, result: unknown) => void;

/** pg's Client, naming each query it is sent as a config object (how the adapter and Pool send them). */
export function namingClient(names: StatementNames): typeof pg.Client {
  class NamingClient extends pg.Client {}
  const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
  Object.defineProperty(NamingClient.prototype, 'query', {
    value: function namedQuery(this: pg.Client, config: unknown, values?: unknown, callback?: unknown) {
      const given = config as QueryConfig | null;
      if (typeof given !== 'object' || given === null || typeof given.text !== 'string' || given.name !== undefined) {
        return query.call(this, config, values, callback);
      }
      // A Submittable (a cursor, a stream) is its own query object: left as it is.
      if (typeof given.submit === 'function') return query.call(this, config, values, callback);
      const text = given.text;
      const name = names.nameOf(text);
      if (name === undefined) return query.call(this, config, values, callback);
      const named = { ...given, name };
      if (typeof callback === 'function') {
        return query.call(this, named, values, (error: Error | null, result: unknown) => {
          if (error) names.noteFailure(text, error);
          (callback as Callback)(error, result);
        });
      }
      if (typeof values === 'function') {
        return query.call(this, named, (error: Error | null, result: unknown) => {
          if (error) names.noteFailure(text, error);
          (values as Callback)(error, result);
        });
      }
      return (query.call(this, named, values) as Promise<unknown>).catch((error: unknown) => {
        names.noteFailure(text, error);
        throw error;
      });
    },
  });
  return NamingClient;
}
