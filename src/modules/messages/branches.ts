import type { Db } from '../../db/client';
import type { Prisma } from '../../generated/prisma/client';

/*
 * Branches. Every message has a parent (the message it answers or follows; null for a first
 * message), so a chat is a tree. A chat's *active branch* is the path from a root to its active
 * leaf (`Chat.active_leaf_id`): the latest message added, unless the client chose another branch.
 * A chat that never branched (`Chat.branched` false: every message followed the one before it)
 * is simply all its messages, and is read exactly as before branches existed. A child always has
 * a larger ID than its parent, so along a path message IDs increase: the path in ID order is the
 * path from the root, and "the newest N" of a path are its N largest IDs.
 */

/** What of a chat decides its active branch. */
export type BranchState = { chat_id: number; branched: boolean; active_leaf_id: number | null };

export const branchSelect = { chat_id: true, branched: true, active_leaf_id: true } as const;

/**
 * The IDs of the messages on the path from a root to `leafId`, root first. One recursive query on
 * either database (a path is at most as long as the chat).
 */
export async function pathTo(db: Db | Prisma.TransactionClient, chatId: number, leafId: number): Promise<number[]> {
  const rows = await db.$queryRaw<{ message_id: number | bigint }[]>`
    WITH RECURSIVE path(message_id, parent_id) AS (
      SELECT message_id, parent_id FROM "Message" WHERE message_id = ${leafId} AND chat_id = ${chatId}
      UNION ALL
      SELECT m.message_id, m.parent_id FROM "Message" m JOIN path p ON m.message_id = p.parent_id
    )
    SELECT message_id FROM path`;
  return rows.map((r) => Number(r.message_id)).sort((a, b) => a - b);
}

/**
 * A filter for the messages of a chat's active branch: only the chat for one that never branched
 * (the fast path every linear chat takes), else the IDs on the path to its active leaf.
 */
export async function activeBranchWhere(
  db: Db | Prisma.TransactionClient,
  chat: BranchState,
): Promise<Prisma.MessageWhereInput> {
  if (!chat.branched || chat.active_leaf_id == null) return { chat_id: chat.chat_id };
  return { chat_id: chat.chat_id, message_id: { in: await pathTo(db, chat.chat_id, chat.active_leaf_id) } };
}

/** The messages of a chat's active branch, oldest first: all of them, or the newest `limit`. */
export async function activeBranchMessages(
  db: Db | Prisma.TransactionClient,
  chat: BranchState,
  query: object = {},
  limit?: number,
): Promise<Prisma.MessageGetPayload<object>[]> {
  const where = await activeBranchWhere(db, chat);
  if (limit === undefined) return db.message.findMany({ ...query, where, orderBy: { message_id: 'asc' } });
  const newest = await db.message.findMany({ ...query, where, orderBy: { message_id: 'desc' }, take: limit });
  return newest.reverse();
}
