import pg from 'pg';
import { Lru } from '../lib/lru';

/*
 * PostgreSQL parses and plans every unnamed statement it is sent, and Prisma's pg adapter sends
 * each query unnamed. A statement sent with a name is prepared once per connection and then only
 * bound and executed, as Prisma's own Rust engine and most PostgreSQL drivers do by default: the
 * database's CPU per chat read halves (bench/README.md, "Changes measured"). This uses pg's public
 * API only: a Pool made with our Client class (pg's `Client` option), which names the SQL texts it
 * sends repeatedly.
 *
 * Off with DATABASE_PREPARED_STATEMENTS=false, or `pgbouncer=true` in DATABASE_URL (Prisma's own
 * switch for the same thing), for a connection pooler that cannot keep prepared statements
 * (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`). Should such a
 * pooler be in the way anyway, the first query that finds a statement missing (or already there)
 * fails, and every statement is sent unnamed from then on.
 */

/** Distinct SQL texts named per pool (Prisma's SQL comes in a few dozen shapes); beyond, texts go unnamed. */
export const MAX_NAMED_STATEMENTS = 1000;
/**
 * A text is named at its second use, as Npgsql prepares automatically after a few: a text sent once
 * (a list of IDs of one length, a page's parents) costs no slot and no prepared statement.
 */
const SEEN_ONCE = 2000;

/** SQLSTATE 0A000 from plan revalidation: a prepared statement's result columns changed under it. */
const resultTypeChanged = (error: { code?: unknown; routine?: unknown; message?: unknown }) =>
  error.code === '0A000' && (error.routine === 'RevalidateCachedQuery' || error.routine === undefined);
/** SQLSTATE 26000 (no such prepared statement) and 42P05 (already exists): a pooler moved us between backends. */
const poolerInTheWay = (error: { code?: unknown }) => error.code === '26000' || error.code === '42P05';

/**
 * True when the statement's own result columns may follow a table's: a `*` outside any
 * parentheses (`SELECT *`, `t.*`; a product too, which only costs it its name), or any `*` in a
 * statement that starts with a parenthesis (`(SELECT * ...) UNION ...`). A `*` inside a subquery,
 * as in the lateral join Prisma writes for a chat with its messages, leaves the statement's result
 * columns as the outer SELECT lists them.
 */
export function resultFollowsTable(sql: string): boolean {
  if (sql.trimStart().startsWith('(')) return sql.includes('*');
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
  private readonly names = new Map<string, string>();
  /** Texts never to name: their result columns follow a table's, or changed under their prepared statement. */
  private readonly unnamed = new Set<string>();
  private readonly seen: Lru<string, true>;
  /** A pooler lost or mixed up prepared statements: nothing is named any more. */
  private off = false;
  /** Names given so far, so that a name is never given twice. */
  private given = 0;
  readonly stats = { named: 0, unnamed: 0 };

  constructor(
    private readonly max = MAX_NAMED_STATEMENTS,
    seenOnce = SEEN_ONCE,
  ) {
    this.seen = new Lru(seenOnce);
  }

  /** The text's name, or undefined to send it unnamed. */
  nameOf(text: string): string | undefined {
    const name = this.off ? undefined : (this.names.get(text) ?? this.nameOnSecondUse(text));
    if (name === undefined) this.stats.unnamed++;
    else this.stats.named++;
    return name;
  }

  private nameOnSecondUse(text: string): string | undefined {
    if (this.given >= this.max || this.unnamed.has(text)) return undefined;
    if (this.seen.get(text) === undefined) {
      this.seen.set(text, true);
      return undefined;
    }
    // Result columns that follow a table's (`SELECT *`) change when a migration adds one, and
    // PostgreSQL then refuses the prepared statement rather than answer other columns: unnamed.
    if (resultFollowsTable(text)) {
      if (this.unnamed.size < this.max) this.unnamed.add(text);
      return undefined;
    }
    // Names are never reused: a connection that prepared `cg_3` keeps it for its life.
    this.given++;
    const name = `cg_${this.given}`;
    this.names.set(text, name);
    return name;
  }

  /**
   * A query sent named failed. If its result type changed under it (a column's type altered while
   * this process runs), that query fails once and the text is sent unnamed from then on, on every
   * connection. If a pooler lost or mixed up prepared statements, every text is.
   */
  noteFailure(text: string, error: unknown): void {
    if (typeof error !== 'object' || error === null) return;
    if (resultTypeChanged(error)) {
      // Its name stays taken (connections keep what they prepared); the text goes unnamed.
      this.names.delete(text);
      this.unnamed.add(text);
    } else if (poolerInTheWay(error)) {
      this.off = true;
    }
  }
}

type QueryConfig = { text?: unknown; name?: unknown; submit?: unknown; callback?: unknown; values?: unknown };
type Callback = (error: Error | null, result: unknown) => void;

/** pg's Client, naming the queries it is sent as a config object with values (how the adapter and Pool send them). */
export function namingClient(names: StatementNames): typeof pg.Client {
  class NamingClient extends pg.Client {}
  const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
  Object.defineProperty(NamingClient.prototype, 'query', {
    value: function namedQuery(this: pg.Client, config: unknown, values?: unknown, callback?: unknown) {
      const given = config as QueryConfig | null;
      const name = nameFor(names, given, values);
      if (name === undefined) return query.call(this, config, values, callback);
      const text = (given as { text: string }).text;
      const named = { ...given, name };
      const noting = (done: Callback) => (error: Error | null, result: unknown) => {
        if (error) names.noteFailure(text, error);
        done(error, result);
      };
      if (typeof callback === 'function') return query.call(this, named, values, noting(callback as Callback));
      if (typeof values === 'function') return query.call(this, named, noting(values as Callback));
      return (query.call(this, named, values) as Promise<unknown>).catch((error: unknown) => {
        names.noteFailure(text, error);
        throw error;
      });
    },
  });
  return NamingClient;
}

/**
 * The name to send a query under, or undefined to send it as given: only a plain config object
 * (not a Submittable such as a cursor, not one carrying its own callback) whose statement takes
 * parameters. One without parameters goes by the simple protocol as before, where a script of
 * several statements is allowed.
 */
function nameFor(names: StatementNames, given: QueryConfig | null, values: unknown): string | undefined {
  if (typeof given !== 'object' || given === null || typeof given.text !== 'string') return undefined;
  if (given.name !== undefined || typeof given.submit === 'function' || typeof given.callback === 'function') {
    return undefined;
  }
  const parameters = Array.isArray(values) ? values : given.values;
  if (!Array.isArray(parameters) || parameters.length === 0) return undefined;
  return names.nameOf(given.text);
}
