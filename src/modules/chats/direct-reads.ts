import { actingAs } from '../../auth/access';
import type { Row, SqlReader } from '../../db/direct';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../../graphql/args';
import type { Context } from '../../graphql/context';
import type { DirectQuery } from '../../graphql/direct-queries';
import { maxMessages, messagesLimit } from './types';

/*
 * GET /chats/{chat_id} and GET /chats/, and the /graphql queries `chat` and `chats` (DIRECT_QUERIES
 * below), read straight from SQL (src/rest/direct.ts and src/graphql/direct-queries.ts say when
 * and why). Each answers exactly what the route's GraphQL operation answers through the resolvers in
 * queries.ts and types.ts, or undefined when it cannot, and then the executor answers: a branched
 * chat, a chat not found, a tag filter, an argument the resolvers refuse, a caller the resolvers
 * refuse, a stored value the schema refuses. test/rest/direct-reads.test.ts sends the same
 * requests to a gateway without direct reads and compares the answers.
 */

type Args = Record<string, unknown>;

/** The time of day at the end of a stored time, with its zone if it has one. */
const TIME_OF_DAY = /\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

/**
 * A stored time's text as Prisma's client reads it (@prisma/client 6.19's runtime does exactly
 * this): without a zone it is UTC, a zone of hours only gets its minutes, a space before the time
 * becomes `T`, and a date alone is its midnight, UTC. PostgreSQL's `timestamp(3)` is always
 * without a zone; SQLite holds what Prisma's adapter wrote (`+00:00`), or what SQLite's
 * CURRENT_TIMESTAMP writes (`2026-01-02 03:04:05`) in a row inserted without the column.
 */
function asUtcText(text: string): string {
  const match = TIME_OF_DAY.exec(text);
  if (match === null) return `${text}T00:00:00Z`;
  const [whole, zone, minutes] = match;
  let utc = text;
  if (zone !== undefined && zone !== 'Z' && minutes === undefined) utc = `${text}:00`;
  else if (zone === undefined) utc = `${text}Z`;
  if (whole.length === text.length) return `1970-01-01T${utc}`;
  const separator = match.index - 1;
  return utc[separator] === ' ' ? `${utc.slice(0, separator)}T${utc.slice(separator + 1)}` : utc;
}

/**
 * The two forms almost every stored time has, rewritten as text without a Date: PostgreSQL's
 * `timestamp(3)` text (UTC, trailing zeros of the fraction dropped) and what Prisma's SQLite
 * adapter writes (milliseconds, `+00:00`). Date parsing and formatting was the largest part of a
 * chat read's own JavaScript (21 times per read); anything else takes the Date path below.
 */
const DAY = '\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\\d|2[0-8])';
const TIME = '(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d';
// Only days that exist in every month: a Date rolls an impossible one over (2025-02-29 is March's
// first) or refuses it, so the 29th to the 31st, like any other form, take the Date path.
const POSTGRES_TIME = new RegExp(`^(${DAY}) (${TIME})(?:\\.(\\d{1,3}))?$`);
const ADAPTER_TIME = new RegExp(`^${DAY}T${TIME}\\.\\d{3}\\+00:00$`);

/** A stored time as the DateTime scalar answers it (the ISO 8601 form of the instant). */
export function isoTime(value: unknown): string {
  if (typeof value === 'string') {
    if (ADAPTER_TIME.test(value)) return `${value.slice(0, 23)}Z`;
    const match = POSTGRES_TIME.exec(value);
    if (match) return `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(3, '0')}Z`;
  }
  return dateIsoTime(value);
}

/** isoTime through a Date: every form Prisma's client reads. */
export function dateIsoTime(value: unknown): string {
  // Epoch milliseconds, as Prisma's SQLite adapter may be set to write them.
  const date = typeof value === 'string' ? new Date(asUtcText(value)) : new Date(Number(value));
  // An unreadable time throws: the read fails and the route's operation answers.
  return date.toISOString();
}

const INT32_MAX = 2 ** 31 - 1;
/** An ID as the Int type answers it; one that Int cannot hold is the executor's to refuse. */
function intOf(value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || Math.abs(n) > INT32_MAX) throw new RangeError(`not a GraphQL Int: ${String(value)}`);
  return n;
}
const intOrNull = (value: unknown) => (value === null || value === undefined ? null : intOf(value));
const isTrue = (value: unknown) => value === 1 || value === 't' || value === true;
/** The Sender enum's values; another stored value is the executor's to refuse. */
const SENDERS = new Set(['user', 'ai']);

/** An Int argument as given, or undefined when absent. */
const givenInt = (value: unknown): number | null | undefined =>
  value === undefined || value === null ? (value as null | undefined) : (value as number);

/** True when `args` holds nothing but `known`: an argument added to the field is the resolvers' to apply. */
const onlyKnown = (args: Args, known: readonly string[]) => Object.keys(args).every((name) => known.includes(name));

/** The chat access rule (auth/access.ts) in SQL: with a user, that user's chats and anonymous ones; without, any. */
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

/**
 * `Query.chat(chat_id, user_id) { chat_id title created_at user_id messages(limit) { ... } }`; with
 * `messageLimit` 0 the chat without messages (a selection without them), branched or not.
 */
export async function readChatWithMessages(
  sql: SqlReader,
  ctx: Context,
  args: Args,
  messageLimit: number,
): Promise<object | undefined> {
  if (!onlyKnown(args, ['chat_id', 'user_id'])) return undefined;
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
    if (!chat || (messageLimit > 0 && isTrue(chat.branched))) return undefined;
    const messages = JSON.parse(chat.messages as string) as [number, string, string, string][];
    return chatAnswer(chat, messages);
  }
  const [chat] = await sql.rows(
    `SELECT c.chat_id, c.title, c.created_at, c.user_id, c.branched FROM "Chat" c WHERE ${chatCondition(sql, who.userId)}`,
    params,
  );
  if (!chat) return undefined;
  // None asked for (a /graphql query without `messages`): the chat alone.
  if (messageLimit === 0) return chatAnswer(chat, []);
  // A branched chat's messages are the path to its active leaf: the resolvers read it.
  if (isTrue(chat.branched)) return undefined;
  const newest = await sql.rows(
    'SELECT message_id, content, sender, "timestamp" FROM "Message" WHERE chat_id = ? ORDER BY message_id DESC LIMIT ?',
    [chat.chat_id, messageLimit],
  );
  const messages = newest.reverse().map((m) => [m.message_id, m.content, m.sender, m.timestamp] as const);
  return chatAnswer(chat, messages);
}

/** The route's JSON, in the order of its selection; undefined when a stored value is not the schema's. */
function chatAnswer(chat: Row, messages: readonly (readonly unknown[])[]) {
  if (messages.some(([, , sender]) => !SENDERS.has(sender as string))) return undefined;
  const chatId = intOf(chat.chat_id);
  return {
    chat_id: chatId,
    title: chat.title,
    created_at: isoTime(chat.created_at),
    user_id: intOrNull(chat.user_id),
    messages: messages.map(([messageId, content, sender, timestamp]) => ({
      message_id: intOf(messageId),
      chat_id: chatId,
      content,
      sender,
      timestamp: isoTime(timestamp),
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
  if (!onlyKnown(args, ['user_id', 'folder_id', 'tag', 'pinned', 'archived', 'limit', 'offset'])) return undefined;
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
    chat_id: intOf(chat.chat_id),
    user_id: intOrNull(chat.user_id),
    title: chat.title,
    created_at: isoTime(chat.created_at),
  }));
}

const MESSAGE_FIELDS = ['message_id', 'chat_id', 'content', 'sender', 'timestamp'] as const;
/** A chat's scalar fields: what `chat` and `chats` read (the answer follows the selection's order). */
const CHAT_FIELDS = ['chat_id', 'title', 'created_at', 'user_id'] as const;
const scalars = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, 'scalar' as const]));

/**
 * The /graphql queries read directly (src/graphql/direct-queries.ts): `chat` with its scalar fields
 * and `messages(limit)` with theirs, and `chats` with the fields the list reads.
 */
export const DIRECT_QUERIES: ReadonlyMap<string, DirectQuery> = new Map<string, DirectQuery>([
  [
    'chat',
    {
      fields: { ...scalars(CHAT_FIELDS), messages: { args: ['limit'], fields: MESSAGE_FIELDS } },
      read: (sql, ctx, args, nested) => {
        // Without `messages` selected, none are read, and a branched chat is answered too.
        if (!nested.messages) return readChatWithMessages(sql, ctx, args, 0);
        const limit = nested.messages.limit;
        // A limit the resolver refuses is the executor's to refuse.
        if (
          limit != null &&
          (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > maxMessages(ctx))
        ) {
          return Promise.resolve(undefined);
        }
        return readChatWithMessages(sql, ctx, args, messagesLimit(limit as number | null | undefined, ctx));
      },
    },
  ],
  [
    'chats',
    {
      fields: scalars(CHAT_FIELDS),
      read: (sql, ctx, args) => listChats(sql, ctx, args),
    },
  ],
]);
