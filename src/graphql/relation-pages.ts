import type { Config } from '../config';
import type { Db } from '../db/client';
import { Prisma } from '../generated/prisma/client';

/*
 * A page of a to-many relation (a chat's newest messages, a user's chats) for every parent a
 * request resolves, each page cut by the database.
 *
 * Pothos' `t.relation` with a `take` loads the relation for all parents in one query, and Prisma
 * applies a nested `take` in memory: `chats(limit: 100) { messages(limit: 1) }` read every message
 * of the hundred chats. Here the parents a request resolves together are batched, the ids of each
 * parent's page are read with one `ORDER BY ... LIMIT` per parent (an index range each), and the
 * rows with the selection's own query: two statements per relation whatever the number of
 * parents (a few more for pages past 500 rows in all). With a single parent (a chat read), one
 * statement does both.
 */

/**
 * Whether the database reads a relation's page inside its parent's statement. The PostgreSQL
 * client is generated with Prisma's `relationJoins` (scripts/prisma-schemas.mjs): a nested read
 * with `take` becomes a `LEFT JOIN LATERAL (... ORDER BY ... LIMIT n)` per parent row, so a chat
 * with its messages is one statement and one round trip, for one chat or a list of them. SQLite's
 * client cuts a nested `take` in memory after reading every child, so there relationPage reads
 * the pages.
 */
export const joinsRelations = (ctx: { readonly config: Config }) => ctx.config.database.provider === 'postgresql';

/** A Prisma `orderBy` list on the child's own columns, e.g. `[{ message_id: 'asc' }]`. */
type Order = readonly object[];
const entries = (order: Order) => order.flatMap((o) => Object.entries(o) as [string, 'asc' | 'desc'][]);

export type RelationPage = {
  /** The child table, its key and the column naming the parent. */
  table: 'Message' | 'Chat';
  id: 'message_id' | 'chat_id';
  parent: 'chat_id' | 'user_id';
  /** The order pages are cut in; `newest: true` takes from its end and keeps the order. */
  order: Order;
  newest?: boolean;
};

type Page = { limit: number; offset?: number };
// A Pothos query: what to select (or include) for the GraphQL selection under the relation.
type Query = { select?: Record<string, unknown>; include?: Record<string, unknown> };
type Delegate = { findMany(args: object): Promise<Record<string, unknown>[]> };

const delegate = (db: Db, spec: RelationPage): Delegate => (spec.table === 'Message' ? db.message : db.chat) as never;
const reversed = (order: Order): Order =>
  entries(order).map(([column, dir]) => ({ [column]: dir === 'asc' ? 'desc' : 'asc' }));

function orderSql(order: Order): Prisma.Sql {
  // Column names come from code (the RelationPage specs), never from requests.
  return Prisma.raw(
    entries(order)
      .map(([column, dir]) => `"${column}" ${dir.toUpperCase()}`)
      .join(', '),
  );
}

/** The ids of each parent's page: one LIMIT per parent, all in one statement. */
async function pageIds(db: Db, spec: RelationPage, parents: number[], page: Page): Promise<number[]> {
  const order = orderSql(spec.newest ? reversed(spec.order) : spec.order);
  const one = (parent: number) =>
    Prisma.sql`SELECT * FROM (SELECT ${Prisma.raw(`"${spec.id}"`)} AS "id" FROM ${Prisma.raw(`"${spec.table}"`)}
      WHERE ${Prisma.raw(`"${spec.parent}"`)} = ${parent} ORDER BY ${order}
      LIMIT ${page.limit} OFFSET ${page.offset ?? 0}) AS ${Prisma.raw(`"p${parent}"`)}`;
  const rows = await db.$queryRaw<{ id: number | bigint }[]>(Prisma.join(parents.map(one), ' UNION ALL '));
  return rows.map((row) => Number(row.id));
}

/** The rows of the pages of some parents, in the relation's order. */
async function loadRows(db: Db, spec: RelationPage, parents: number[], page: Page, query: Query) {
  if (parents.length === 1) {
    const rows = await delegate(db, spec).findMany({
      ...query,
      where: { [spec.parent]: parents[0] },
      orderBy: spec.newest ? reversed(spec.order) : spec.order,
      take: page.limit,
      skip: page.offset ?? 0,
    });
    return spec.newest ? rows.reverse() : rows;
  }
  const ids = await pageIds(db, spec, parents, page);
  return delegate(db, spec).findMany({ ...query, where: { [spec.id]: { in: ids } }, orderBy: spec.order });
}

/**
 * Rows read per statement at most: SQLite binds at most 999 values (Prisma refuses more), and a
 * compound SELECT has at most 500 terms. Larger pages are read a few parents at a time.
 */
const MAX_ROWS_PER_STATEMENT = 500;

/** The pages of all `parents`, grouped by parent, each in the relation's order. */
async function loadPages(db: Db, spec: RelationPage, parents: number[], page: Page, query: Query) {
  const withParent = query.select ? { ...query, select: { ...query.select, [spec.parent]: true } } : query;
  const perStatement = Math.max(1, Math.min(100, Math.floor(MAX_ROWS_PER_STATEMENT / page.limit)));
  const byParent = new Map<number, Record<string, unknown>[]>();
  for (let start = 0; start < parents.length; start += perStatement) {
    const rows = await loadRows(db, spec, parents.slice(start, start + perStatement), page, withParent);
    for (const row of rows) {
      const parent = row[spec.parent] as number;
      const list = byParent.get(parent);
      if (list) list.push(row);
      else byParent.set(parent, [row]);
    }
  }
  return byParent;
}

type Batch = { parents: Set<number>; pages: Promise<Map<number, Record<string, unknown>[]>> };
const batches = new WeakMap<object, Map<string, Batch>>();

/**
 * The page of one parent. Calls made for the same request, relation, page and selection while
 * the executor walks a list are answered together, after the current resolvers have all run.
 */
export function relationPage<T>(
  ctx: { readonly db: Db },
  spec: RelationPage,
  parent: number,
  page: Page,
  query: Query,
): Promise<T[]> {
  let open = batches.get(ctx);
  if (!open) {
    open = new Map();
    batches.set(ctx, open);
  }
  const key = JSON.stringify([spec.table, spec.parent, page, query]);
  let batch = open.get(key);
  if (!batch) {
    const parents = new Set<number>();
    const requests = open;
    batch = {
      parents,
      pages: Promise.resolve()
        .then(() => new Promise((resolve) => process.nextTick(resolve)))
        .then(() => {
          requests.delete(key);
          return loadPages(ctx.db, spec, [...parents], page, query);
        }),
    };
    open.set(key, batch);
  }
  batch.parents.add(parent);
  return batch.pages.then((pages) => (pages.get(parent) ?? []) as T[]);
}
