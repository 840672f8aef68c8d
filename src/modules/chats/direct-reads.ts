import { actingAs } from '../../auth/access';
import type { Row, SqlReader } from '../../db/direct';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../../graphql/args';
import type { Context } from '../../graphql/context';

/*
 * GET /chats/{chat_id} and GET /chats/ read straight from SQL (src/rest/direct.ts says when and
 * why). Each answers exactly what the route's GraphQL operation answers through the resolvers in
 * queries.ts and types.ts, or undefined when it cannot, and then the executor answers: a branched
 * chat, a chat not found, a tag filter, an argument the resolvers refuse, a caller the resolvers
 * refuse. test/rest/direct-reads.test.ts sends the same requests to a gateway without direct
 * reads and compares the answers.
 */

type Args = Record<string, unknown>;

/** A stored time as the DateTime scalar answers it (the ISO 8601 form of a UTC instant). */
function isoTime(value: unknown, dialect: SqlReader['dialect']): string {
  // PostgreSQL's `timestamp(3)` is UTC without a zone (as Prisma reads it), in text or JSON form;
  // SQLite holds what Prisma's adapter wrote: ISO 8601 text, or epoch milliseconds.
  const date =
    dialect === 'postgresql'
      ? new Date(`${String(value).replace(' ', 'T')}Z`)
      : new Date(typeof value === 'string' ? value : Number(value));
  // An unreadable time (it should not be stored) is the executor's to answer.
  return date.toISOString();
}

const idOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const isTrue = (value: unknown) => value === 1 || value === 't' || value === true;

/** An Int argument as given, or undefined when absent. */
const givenInt = (value: unknown): number | null | undefined =>
  value === undefined || value === null ? (value as null | undefined) : (value as number);

/** The chat's condition for the caller: that user's and anonymous chats, or any with no user. */
function chatCondition(sql: SqlReader, userId: number | null | undefined) {
  const p = placeholders(sql);
  const id = `c.chat_id = ${p()}`;
  return userId == null ? id : `${id} AND (c.user_id IS NULL OR c.user_id = ${p()})`;
}

/** Numbered placeholders for PostgreSQL, `?` for SQLite. */
function placeholders(sql: SqlReader): () => string {
  let n = 0;
  return () => (sql.dialect === 'postgresql' ? `$${++n}` : '?');
}

/** `Query.chat(chat_id, user_id) { chat_id title created_at user_id messages(limit) { ... } }`. */
export async function readChatWithMessages(
  sql: SqlReader,
  ctx: Context,
  args: Args,
  messageLimit: number,
): Promise<object | undefined> {
  const who = actingAs(ctx, givenInt(args.user_id));
  if (!who.allowed || typeof args.chat_id !== 'number') return undefined;
  const params: unknown[] = who.userId == null ? [args.chat_id] : [args.chat_id, who.userId];
  if (sql.dialect === 'postgresql') {
    // One statement, like the resolvers' lateral join: the chat, and its newest messages as JSON.
    const [chat] = await sql.rows(
      `SELECT c.chat_id, c.title, c.created_at, c.user_id, c.branched,
        (SELECT coalesce(json_agg(json_build_array(m.message_id, m.content, m.sender, m."timestamp") ORDER BY m.message_id), '[]')
          FROM (SELECT message_id, content, sender, "timestamp" FROM "Message" WHERE chat_id = c.chat_id
                ORDER BY message_id DESC LIMIT $${params.length + 1}) m) AS messages
      FROM "Chat" c WHERE ${chatCondition(sql, who.userId)}`,
      [...params, messageLimit],
    );
    if (!chat || isTrue(chat.branched)) return undefined;
    const messages = JSON.parse(chat.messages as string) as [number, string, string, string][];
    return chatAnswer(chat, sql, messages);
  }
  const [chat] = await sql.rows(
    `SELECT c.chat_id, c.title, c.created_at, c.user_id, c.branched FROM "Chat" c WHERE ${chatCondition(sql, who.userId)}`,
    params,
  );
  // A branched chat's messages are the path to its active leaf: the resolvers read it.
  if (!chat || isTrue(chat.branched)) return undefined;
  const newest = await sql.rows(
    'SELECT message_id, content, sender, "timestamp" FROM "Message" WHERE chat_id = ? ORDER BY message_id DESC LIMIT ?',
    [chat.chat_id, messageLimit],
  );
  const messages = newest.reverse().map((m) => [m.message_id, m.content, m.sender, m.timestamp] as const);
  return chatAnswer(chat, sql, messages);
}

/** The route's JSON, in the order of its selection. */
function chatAnswer(chat: Row, sql: SqlReader, messages: readonly (readonly unknown[])[]) {
  const chatId = Number(chat.chat_id);
  return {
    chat_id: chatId,
    title: chat.title,
    created_at: isoTime(chat.created_at, sql.dialect),
    user_id: idOrNull(chat.user_id),
    messages: messages.map(([messageId, content, sender, timestamp]) => ({
      message_id: Number(messageId),
      chat_id: chatId,
      content,
      sender,
      timestamp: isoTime(timestamp, sql.dialect),
    })),
  };
}

const validLimit = (value: unknown) =>
  value === undefined || (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_LIMIT);
const validOffset = (value: unknown) => value === undefined || (Number.isInteger(value) && (value as number) >= 0);
const optionalBoolean = (value: unknown) => value === undefined || value === null || typeof value === 'boolean';
const optionalInt = (value: unknown) => value === undefined || value === null || Number.isInteger(value);

/** `Query.chats(user_id, folder_id, pinned, archived, limit, offset) { chat_id user_id title created_at }`. */
export async function listChats(sql: SqlReader, ctx: Context, args: Args): Promise<object | undefined> {
  const { user_id, folder_id, tag, pinned, archived, limit, offset } = args;
  // Tags, and what the resolvers refuse, are theirs to answer.
  if (tag !== undefined && tag !== null) return undefined;
  if (!validLimit(limit) || !validOffset(offset) || !optionalBoolean(pinned) || !optionalBoolean(archived)) {
    return undefined;
  }
  if (!optionalInt(user_id) || !optionalInt(folder_id)) return undefined;
  const who = actingAs(ctx, givenInt(user_id));
  if (!who.allowed) return [];
  const p = placeholders(sql);
  const bool = (value: boolean) => (sql.dialect === 'postgresql' ? value : value ? 1 : 0);
  // Only the conditions given, so the statement uses the index that fits (one text per shape).
  const conditions: string[] = [];
  const params: unknown[] = [];
  const where = (column: string, value: unknown) => {
    conditions.push(`${column} = ${p()}`);
    params.push(value);
  };
  if (who.userId != null) where('user_id', who.userId);
  where('archived', bool((archived as boolean | null | undefined) ?? false));
  if (pinned != null) where('pinned', bool(pinned as boolean));
  if (folder_id != null) where('folder_id', folder_id);
  const rows = await sql.rows(
    `SELECT chat_id, user_id, title, created_at FROM "Chat" WHERE ${conditions.join(' AND ')}
      ORDER BY created_at DESC, chat_id DESC LIMIT ${p()} OFFSET ${p()}`,
    [...params, (limit as number | undefined) ?? DEFAULT_LIMIT, (offset as number | undefined) ?? 0],
  );
  return rows.map((chat) => ({
    chat_id: Number(chat.chat_id),
    user_id: idOrNull(chat.user_id),
    title: chat.title,
    created_at: isoTime(chat.created_at, sql.dialect),
  }));
}
