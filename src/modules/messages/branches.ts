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
 * Messages by ID, oldest first, in chunks: a long path's IDs as one `IN` list would pass SQLite's
 * 999 bound parameters (Prisma refuses such a query).
 */
export async function messagesByIds(
  db: Db | Prisma.TransactionClient,
  ids: readonly number[],
  query: object = {},
): Promise<Prisma.MessageGetPayload<object>[]> {
  const rows: Prisma.MessageGetPayload<object>[] = [];
  for (let at = 0; at < ids.length; at += ID_CHUNK) {
    const chunk = ids.slice(at, at + ID_CHUNK);
    rows.push(
      ...(await db.message.findMany({
        ...query,
        where: { message_id: { in: chunk } },
        orderBy: { message_id: 'asc' },
      })),
    );
  }
  return rows;
}
const ID_CHUNK = 500;

/**
 * The messages of a chat's active branch, oldest first: all of them, or the newest `limit`. A
 * chat that never branched is all its messages (the plain query); a branched one, the path to its
 * active leaf.
 */
export async function activeBranchMessages(
  db: Db | Prisma.TransactionClient,
  chat: BranchState,
  query: object = {},
  limit?: number,
): Promise<Prisma.MessageGetPayload<object>[]> {
  if (!chat.branched || chat.active_leaf_id == null) {
    const where = { chat_id: chat.chat_id };
    if (limit === undefined) return db.message.findMany({ ...query, where, orderBy: { message_id: 'asc' } });
    const newest = await db.message.findMany({ ...query, where, orderBy: { message_id: 'desc' }, take: limit });
    return newest.reverse();
  }
  const path = await pathTo(db, chat.chat_id, chat.active_leaf_id);
  return messagesByIds(db, limit === undefined ? path : path.slice(-limit), query);
}

/**
 * The leaf a client means by choosing `messageId`: the message itself when it is a leaf, else the
 * most recently added leaf below it (the largest ID in its subtree is a leaf: a child of it would
 * have a larger ID). Null when the message is not in the chat.
 */
export async function leafUnder(
  db: Db | Prisma.TransactionClient,
  chatId: number,
  messageId: number,
): Promise<number | null> {
  const rows = await db.$queryRaw<{ leaf: number | bigint | null }[]>`
    WITH RECURSIVE below(message_id) AS (
      SELECT message_id FROM "Message" WHERE message_id = ${messageId} AND chat_id = ${chatId}
      UNION ALL
      SELECT m.message_id FROM "Message" m JOIN below b ON m.parent_id = b.message_id
    )
    SELECT MAX(message_id) AS leaf FROM below`;
  const leaf = rows[0]?.leaf;
  return leaf == null ? null : Number(leaf);
}

/** A chat's tree as parent → children (IDs, oldest first); roots under `null`. */
export type Family = Map<number | null, number[]>;

// One read of a chat's (message_id, parent_id) pairs per request, shared by every message of that
// chat whose siblings the request asks for (a chat screen asks for all of them). A subscription
// keeps its context for its whole life: a message the cached tree does not know reads it again.
const families = new WeakMap<object, Map<number, Promise<Family>>>();

export function familyOf(db: Db, requestKey: object, chatId: number, fresh = false): Promise<Family> {
  let byChat = families.get(requestKey);
  if (!byChat) {
    byChat = new Map();
    families.set(requestKey, byChat);
  }
  let family = fresh ? undefined : byChat.get(chatId);
  if (!family) {
    family = db.message
      .findMany({
        where: { chat_id: chatId },
        select: { message_id: true, parent_id: true },
        orderBy: { message_id: 'asc' },
      })
      .then((rows) => {
        const map: Family = new Map();
        for (const { message_id, parent_id } of rows) {
          const siblings = map.get(parent_id);
          if (siblings) siblings.push(message_id);
          else map.set(parent_id, [message_id]);
        }
        return map;
      });
    byChat.set(chatId, family);
  }
  return family;
}
