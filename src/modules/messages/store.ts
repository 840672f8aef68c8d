import { actingAs, chatFor } from '../../auth/access';
import { Prisma } from '../../generated/prisma/client';
import type { Context } from '../../graphql/context';
import { chatNotFound } from '../../graphql/errors';

/** The chat's ID when the caller may use it (the chat access rule, src/auth/access.ts), else a 404. */
export async function accessibleChatId(
  ctx: Context,
  chatId: number,
  userId: number | null | undefined,
): Promise<number> {
  return (await accessibleChat(ctx, chatId, userId, { chat_id: true })).chat_id;
}

/** The chat's columns in `select` when the caller may use it (the chat access rule), else a 404. */
export async function accessibleChat<S extends Prisma.ChatSelect>(
  ctx: Context,
  chatId: number,
  userId: number | null | undefined,
  select: S,
): Promise<Prisma.ChatGetPayload<{ select: S }>> {
  const where = chatFor(ctx, chatId, userId);
  const chat = where && (await ctx.db.chat.findFirst({ where, select }));
  if (!chat) throw chatNotFound(chatId);
  return chat as Prisma.ChatGetPayload<{ select: S }>;
}

type NewMessage = {
  chat_id: number;
  content: string;
  sender: string;
  is_complete: boolean;
  /** The message it follows; undefined: the chat's active leaf; null: none (a new first message). */
  parent_id?: number | null;
};
export type StoredMessage = Prisma.MessageGetPayload<object>;

/**
 * PostgreSQL: one statement that checks access, locks the chat row, takes the message's ID,
 * moves the chat's `last_message_at` and active leaf, and inserts the message. Within a chat the
 * next message ID is taken only once the previous message is committed (the row lock), so a
 * reader never sees a later ID before an earlier one, and the timestamp (never behind the chat's
 * last one) agrees with the ID order, with any number of writers and instances. A message that
 * names no parent follows the active leaf as the lock found it (`FOR UPDATE` reads the latest
 * committed row), so two concurrent adds never both follow the same message.
 */
export async function insertInChatOrder(ctx: Context, userId: number | null | undefined, m: NewMessage) {
  const who = actingAs(ctx, userId);
  if (!who.allowed) throw chatNotFound(m.chat_id);
  const owner = who.userId ?? null;
  const follow = m.parent_id === undefined;
  const parent = m.parent_id ?? null;
  // Straight to the driver adapter (db/adapter-sql.ts): the same statement as through the client.
  const rows = await ctx.adapterSql.rows<StoredMessage>(Prisma.sql`
    WITH locked AS (
      SELECT chat_id, active_leaf_id FROM "Chat"
      WHERE chat_id = ${m.chat_id} AND (${owner}::int IS NULL OR user_id IS NULL OR user_id = ${owner}::int)
      FOR UPDATE
    ), chat AS (
      UPDATE "Chat" c
      SET last_message_at = GREATEST(date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC'), c.last_message_at),
        branched = c.branched OR (NOT ${follow} AND ${parent}::int IS DISTINCT FROM locked.active_leaf_id),
        active_leaf_id = nextval(pg_get_serial_sequence('"Message"', 'message_id'))
      FROM locked WHERE c.chat_id = locked.chat_id
      RETURNING c.chat_id, c.last_message_at, c.active_leaf_id AS message_id,
        CASE WHEN ${follow} THEN locked.active_leaf_id ELSE ${parent}::int END AS parent_id
    )
    INSERT INTO "Message" (message_id, chat_id, content, sender, is_complete, "timestamp", parent_id)
    SELECT message_id, chat_id, ${m.content}, ${m.sender}, ${m.is_complete}, last_message_at, parent_id FROM chat
    RETURNING message_id, chat_id, content, sender, "timestamp", is_complete, parent_id`);
  const row = rows[0];
  if (!row) throw chatNotFound(m.chat_id);
  return row;
}

/** How Prisma stores a DateTime in SQLite (text that sorts and compares as time). */
const sqliteTime = (at: Date) => at.toISOString().replace('Z', '+00:00');

/**
 * SQLite: one statement that checks access, reads the parent and inserts the message; triggers
 * (migrations branches_shares_feedback and message_moves_last_message_at) make it the chat's
 * active leaf and move the chat's `last_message_at` forward within that same statement, and the
 * search index follows it. SQLite has one writer at a time, so IDs follow commit order anyway;
 * concurrent adds, whose awaits interleave on the one connection, still each follow the one
 * before, and a chat deleted meanwhile simply gives no row (a 404), never a half-written message.
 */
export async function insertOnSqlite(ctx: Context, userId: number | null | undefined, m: NewMessage) {
  const who = actingAs(ctx, userId);
  if (!who.allowed) throw chatNotFound(m.chat_id);
  const owner = who.userId ?? null;
  const follow = m.parent_id === undefined;
  const parent = m.parent_id ?? null;
  // Straight to the driver adapter (db/adapter-sql.ts): the same statement as through the client.
  const rows = await ctx.adapterSql.rows<
    Omit<StoredMessage, 'timestamp' | 'is_complete'> & { timestamp: string; is_complete: number | boolean }
  >(Prisma.sql`
    INSERT INTO "Message" (chat_id, content, sender, is_complete, "timestamp", parent_id)
    SELECT chat_id, ${m.content}, ${m.sender}, ${m.is_complete}, ${sqliteTime(new Date())},
      CASE WHEN ${follow} THEN active_leaf_id ELSE ${parent} END
    FROM "Chat" WHERE chat_id = ${m.chat_id} AND (${owner} IS NULL OR user_id IS NULL OR user_id = ${owner})
    RETURNING message_id, chat_id, content, sender, "timestamp", is_complete, parent_id`);
  const row = rows[0];
  if (!row) throw chatNotFound(m.chat_id);
  const message: StoredMessage = { ...row, timestamp: new Date(row.timestamp), is_complete: Boolean(row.is_complete) };
  // A new first message in a chat that had messages is a branch. The trigger cannot tell it from a
  // row written without a parent by other means, so it is marked here.
  if (m.parent_id === null) {
    await ctx.db.chat.updateMany({
      where: { chat_id: m.chat_id, messages: { some: { message_id: { not: message.message_id } } } },
      data: { branched: true },
    });
  }
  return message;
}
