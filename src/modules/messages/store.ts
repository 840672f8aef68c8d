import { actingAs, chatFor } from '../../auth/access';
import { isPrismaError } from '../../db/errors';
import type { Prisma } from '../../generated/prisma/client';
import type { Context } from '../../graphql/context';
import { chatNotFound } from '../../graphql/errors';

/** The chat's ID when the caller may use it (the chat access rule, src/auth/access.ts), else a 404. */
export async function accessibleChatId(
  ctx: Context,
  chatId: number,
  userId: number | null | undefined,
): Promise<number> {
  const where = chatFor(ctx, chatId, userId);
  const chat = where && (await ctx.db.chat.findFirst({ where, select: { chat_id: true } }));
  if (!chat) throw chatNotFound(chatId);
  return chat.chat_id;
}

type NewMessage = { chat_id: number; content: string; sender: string; is_complete: boolean };
export type StoredMessage = Prisma.MessageGetPayload<object>;

/**
 * PostgreSQL: one statement that checks access, moves the chat's `last_message_at` and inserts the
 * message. Its UPDATE locks the chat row until the statement commits, so within a chat the next
 * message ID is taken only once the previous message is committed: a reader never sees a later
 * ID before an earlier one, and the timestamp (never behind the chat's last one) agrees with the
 * ID order, with any number of writers and instances.
 */
export async function insertInChatOrder(ctx: Context, userId: number | null | undefined, m: NewMessage) {
  const who = actingAs(ctx, userId);
  if (!who.allowed) throw chatNotFound(m.chat_id);
  const owner = who.userId ?? null;
  const rows = await ctx.db.$queryRaw<StoredMessage[]>`
    WITH chat AS (
      UPDATE "Chat"
      SET last_message_at = GREATEST(date_trunc('milliseconds', clock_timestamp() AT TIME ZONE 'UTC'), last_message_at)
      WHERE chat_id = ${m.chat_id} AND (${owner}::int IS NULL OR user_id IS NULL OR user_id = ${owner}::int)
      RETURNING chat_id, last_message_at
    )
    INSERT INTO "Message" (chat_id, content, sender, is_complete, "timestamp")
    SELECT chat_id, ${m.content}, ${m.sender}, ${m.is_complete}, last_message_at FROM chat
    RETURNING message_id, chat_id, content, sender, "timestamp", is_complete`;
  const row = rows[0];
  if (!row) throw chatNotFound(m.chat_id);
  return row;
}

/**
 * SQLite: one writer at a time, so IDs follow commit order anyway. Access is checked, then the
 * message inserted and the chat's `last_message_at` moved forward.
 */
export async function insertAfterCheck(ctx: Context, userId: number | null | undefined, m: NewMessage, query: object) {
  await accessibleChatId(ctx, m.chat_id, userId);
  let message: StoredMessage;
  try {
    message = await ctx.db.message.create({ ...query, data: m });
  } catch (error) {
    // The chat was deleted between the check and the insert.
    if (isPrismaError(error, 'P2003')) throw chatNotFound(m.chat_id);
    throw error;
  }
  // Only forward: a concurrent add with a later time may have been here first.
  await ctx.db.chat.updateMany({
    where: { chat_id: m.chat_id, OR: [{ last_message_at: null }, { last_message_at: { lt: message.timestamp } }] },
    data: { last_message_at: message.timestamp },
  });
  return message;
}
