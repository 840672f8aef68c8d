import { Prisma } from '../../generated/prisma/client';
import type { Context } from '../../graphql/context';
import { badInput } from '../../graphql/errors';
import { type ChatFilters, type CheckedFilters, checkFilters } from './organise';

type SearchHit = { chat_id: number; snippets: { message_id: number; snippet: string; timestamp: Date }[] };

const MARK = ['**', '**'] as const;
export const SNIPPETS_PER_CHAT = 3;

/** The words of a query, each searched as itself: no operator syntax reaches the search engine. */
function words(query: string): string[] {
  const list = query.match(/[\p{L}\p{N}]+/gu) ?? [];
  if (list.length === 0) throw badInput('query: needs at least one word');
  return list.slice(0, 20);
}

/** The chats a user may search (that user's, with `userId`; everyone's without). */
const owner = (userId: number | null | undefined) =>
  userId == null ? Prisma.empty : Prisma.sql`AND c."user_id" = ${userId}`;

/**
 * The chat list's filters (organise.ts) as SQL on the chat `c`. Booleans are 0/1 on SQLite (which
 * has no boolean type; Prisma stores them so) and booleans on PostgreSQL.
 */
function organised(filters: CheckedFilters, sqlite: boolean): Prisma.Sql {
  const bool = (value: boolean) => (sqlite ? (value ? 1 : 0) : value);
  const parts = [Prisma.sql`AND c."archived" = ${bool(filters.archived)}`];
  if (filters.pinned !== null) parts.push(Prisma.sql`AND c."pinned" = ${bool(filters.pinned)}`);
  if (filters.folder_id !== null) parts.push(Prisma.sql`AND c."folder_id" = ${filters.folder_id}`);
  for (const tag of filters.tags) {
    parts.push(Prisma.sql`AND EXISTS (SELECT 1 FROM "ChatTag" t WHERE t."chat_id" = c."chat_id" AND t."tag" = ${tag})`);
  }
  return Prisma.join(parts, ' ');
}

/**
 * Full-text search over chat titles and message content, newest chats first, with up to three
 * matching messages per chat. SQLite uses FTS5 tables kept by triggers; PostgreSQL, GIN indexes
 * on to_tsvector('simple', ...). Both match every word of the query (prefixes on SQLite, whole
 * words on PostgreSQL).
 */
export async function searchChats(
  ctx: Pick<Context, 'db' | 'config'>,
  query: string,
  userId: number | null | undefined,
  limit: number,
  offset = 0,
  filters: ChatFilters = {},
) {
  const terms = words(query);
  const sqlite = ctx.config.database.provider === 'sqlite';
  const where = Prisma.sql`${owner(userId)} ${organised(checkFilters(filters), sqlite)}`;
  let chats: { chat_id: number }[];
  let snippets: { chat_id: number; message_id: number; snippet: string; timestamp: Date | string }[];
  if (sqlite) {
    const match = terms.map((w) => `"${w}"*`).join(' ');
    chats = await ctx.db.$queryRaw`
      SELECT c."chat_id" FROM "Chat" c WHERE c."chat_id" IN (
        SELECT rowid FROM "ChatSearch" WHERE "ChatSearch" MATCH ${match}
        UNION SELECT m."chat_id" FROM "MessageSearch" s JOIN "Message" m ON m."message_id" = s.rowid
          WHERE "MessageSearch" MATCH ${match}
      ) ${where}
      ORDER BY c."created_at" DESC, c."chat_id" DESC LIMIT ${limit} OFFSET ${offset}`;
    const ids = chats.map((c) => Number(c.chat_id));
    snippets =
      ids.length === 0
        ? []
        : await ctx.db.$queryRaw`
      SELECT m."chat_id", m."message_id", m."timestamp",
        snippet("MessageSearch", 0, ${MARK[0]}, ${MARK[1]}, '…', 12) AS snippet
      FROM "MessageSearch" s JOIN "Message" m ON m."message_id" = s.rowid
      WHERE "MessageSearch" MATCH ${match} AND m."chat_id" IN (${Prisma.join(ids)})
      ORDER BY m."message_id" DESC`;
  } else {
    const tsquery = terms.join(' ');
    chats = await ctx.db.$queryRaw`
      SELECT c."chat_id" FROM "Chat" c WHERE c."chat_id" IN (
        SELECT "chat_id" FROM "Chat" WHERE to_tsvector('simple', "title") @@ plainto_tsquery('simple', ${tsquery})
        UNION SELECT "chat_id" FROM "Message"
          WHERE to_tsvector('simple', "content") @@ plainto_tsquery('simple', ${tsquery})
      ) ${where}
      ORDER BY c."created_at" DESC, c."chat_id" DESC LIMIT ${limit} OFFSET ${offset}`;
    const ids = chats.map((c) => Number(c.chat_id));
    snippets =
      ids.length === 0
        ? []
        : await ctx.db.$queryRaw`
      SELECT m."chat_id", m."message_id", m."timestamp",
        ts_headline('simple', m."content", plainto_tsquery('simple', ${tsquery}),
          'StartSel=**, StopSel=**, MaxWords=18, MinWords=6, MaxFragments=1, FragmentDelimiter=…') AS snippet
      FROM "Message" m
      WHERE m."chat_id" IN (${Prisma.join(ids)})
        AND to_tsvector('simple', m."content") @@ plainto_tsquery('simple', ${tsquery})
      ORDER BY m."message_id" DESC`;
  }
  const byChat = new Map<number, SearchHit>(
    chats.map((c) => [Number(c.chat_id), { chat_id: Number(c.chat_id), snippets: [] }]),
  );
  for (const s of snippets) {
    const hit = byChat.get(Number(s.chat_id));
    if (hit && hit.snippets.length < SNIPPETS_PER_CHAT) {
      hit.snippets.push({ message_id: Number(s.message_id), snippet: s.snippet, timestamp: new Date(s.timestamp) });
    }
  }
  return [...byChat.values()];
}
