import { actingAs } from '../../auth/access';
import type { Prisma } from '../../generated/prisma/client';
import type { Context } from '../../graphql/context';
import { forbidden } from '../../graphql/errors';
import { publishChatChange } from '../chats/events';
import { assertUserExists, unknownUser } from '../users';
import { type Limits, neitherFormat, readConversation } from './formats';
import { type PlannedChat, planChat } from './tree';

/*
 * Import: every conversation of the request is checked and planned first (formats.ts, tree.ts),
 * so that malformed input changes nothing; then each is written in a transaction of its own.
 */

export type ImportResult = {
  imported: number;
  chat_ids: number[];
  skipped: { index: number; reason: string }[];
  skipped_messages: number;
};

/** A large conversation is one INSERT, but a SQLite writer may first wait for another's transaction. */
const TRANSACTION = { maxWait: 10_000, timeout: 60_000 } as const;

/**
 * Whose the imported chats are, as for create_chat: the `user_id` given (which must exist), the
 * caller's own with authentication on (another user's is refused), none for an anonymous import.
 */
export async function importOwner(ctx: Context, givenUserId: number | null | undefined): Promise<number | null> {
  const who = actingAs(ctx, givenUserId);
  if (!who.allowed) throw forbidden('You can only import chats for yourself');
  if (who.userId != null) await assertUserExists(ctx, who.userId);
  return who.userId ?? null;
}

/** What an import will write: each conversation's rows (null: nothing to import), and its skipped messages. */
export type ImportPlan = { chats: (PlannedChat | null)[]; skipped: number[] };

export const emptyPlan = (): ImportPlan => ({ chats: [], skipped: [] });

export const limitsOf = (ctx: Pick<Context, 'config'>): Limits => ({ maxMessageLength: ctx.config.maxMessageLength });

/** Checks one conversation (BAD_USER_INPUT naming where) and adds its rows to the plan. */
export function planConversation(plan: ImportPlan, value: unknown, where: string, limits: Limits, now: number) {
  const source = readConversation(value, where, limits);
  plan.chats.push(planChat(source, now));
  plan.skipped.push(source.nodes.filter((node) => node.skipped).length);
}

/** The plan of a whole parsed file: an array of conversations, or one chat. */
export function planImport(value: unknown, limits: Limits): ImportPlan {
  const plan = emptyPlan();
  const now = Date.now();
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) planConversation(plan, item, `conversations[${i}]`, limits, now);
  } else if (typeof value === 'object' && value !== null) {
    planConversation(plan, value, 'conversation', limits, now);
  } else {
    throw neitherFormat();
  }
  return plan;
}

/** Imports the parsed JSON of a request (either format) as chats of `owner`. */
export function importChats(ctx: Context, owner: number | null, value: unknown): Promise<ImportResult> {
  return writeImport(ctx, owner, planImport(value, limitsOf(ctx)));
}

/** Writes a plan, checked whole beforehand: one transaction per chat, CREATED for each. */
export async function writeImport(ctx: Context, owner: number | null, plan: ImportPlan): Promise<ImportResult> {
  const result: ImportResult = { imported: 0, chat_ids: [], skipped: [], skipped_messages: 0 };
  for (const [index, chat] of plan.chats.entries()) {
    const skippedHere = plan.skipped[index] ?? 0;
    result.skipped_messages += skippedHere;
    if (!chat) {
      const reason =
        skippedHere === 0
          ? 'no messages'
          : `no importable messages (${skippedHere} skipped: system, tool, hidden, empty or not text)`;
      result.skipped.push({ index, reason });
      continue;
    }
    const chatId = await writeChat(ctx, owner, chat);
    publishChatChange(ctx, owner, chatId, 'CREATED');
    result.chat_ids.push(chatId);
    result.imported++;
  }
  return result;
}

/**
 * One chat and its messages, in one transaction. The messages go in one INSERT (their rows as one
 * JSON parameter, so no bound-parameter limit applies), parents before children, with IDs chosen
 * so that every child's ID is larger than its parent's. The active leaf and `branched` are set
 * last: on SQLite the insert trigger moved them with every row.
 */
async function writeChat(ctx: Context, owner: number | null, plan: PlannedChat): Promise<number> {
  const postgres = ctx.config.database.provider === 'postgresql';
  return ctx.db.$transaction(async (tx) => {
    const { chat_id } = await tx.chat
      .create({
        data: {
          user_id: owner,
          title: plan.title,
          created_at: plan.created_at,
          last_message_at: plan.last_message_at,
          // Arriving counts as a change: retention measures inactivity from now, not from 2023.
          updated_at: new Date(),
        },
        select: { chat_id: true },
      })
      .catch(unknownUser(owner));
    const ids = postgres ? await insertPostgres(tx, chat_id, plan) : await insertSqlite(tx, chat_id, plan);
    await tx.chat.update({
      where: { chat_id },
      data: { active_leaf_id: ids[plan.activeLeaf] ?? null, branched: plan.branched },
    });
    return chat_id;
  }, TRANSACTION);
}

/**
 * PostgreSQL: the IDs are taken from the sequence first (in increasing order), then the rows
 * inserted with them, so that a parent's ID is known when its children are written.
 */
async function insertPostgres(tx: Prisma.TransactionClient, chatId: number, plan: PlannedChat): Promise<number[]> {
  const reserved = await tx.$queryRaw<{ id: number }[]>`
    SELECT nextval(pg_get_serial_sequence('"Message"', 'message_id'))::int AS id
    FROM generate_series(1, ${plan.messages.length}::int)`;
  const ids = reserved.map((r) => Number(r.id)).sort((a, b) => a - b);
  const rows = plan.messages.map((m, i) => ({
    message_id: ids[i],
    parent_id: m.parent === null ? null : ids[m.parent],
    content: m.content,
    sender: m.sender,
    // "timestamp" holds UTC without a zone, as Prisma writes it.
    timestamp: m.timestamp.toISOString().slice(0, -1),
  }));
  await tx.$executeRaw`
    INSERT INTO "Message" (message_id, chat_id, content, sender, "timestamp", is_complete, parent_id)
    SELECT r.message_id, ${chatId}::int, r.content, r.sender, r."timestamp", true, r.parent_id
    FROM json_to_recordset(${JSON.stringify(rows)}::json)
      AS r(message_id int, parent_id int, content text, sender text, "timestamp" timestamp(3))
    ORDER BY r.message_id`;
  return ids;
}

/** How Prisma stores a DateTime in SQLite (as store.ts writes it). */
const sqliteTime = (at: Date) => at.toISOString().replace('Z', '+00:00');

/**
 * SQLite: one statement numbers the rows after the table's last ID (AUTOINCREMENT's sequence) and
 * inserts them. SQLite's one connection is shared by every request, so an ID read in a statement
 * of its own could be taken by another request's insert before ours; within one statement it
 * cannot (the SELECT is evaluated whole before the first row goes in: the table has a trigger).
 */
async function insertSqlite(tx: Prisma.TransactionClient, chatId: number, plan: PlannedChat): Promise<number[]> {
  const rows = plan.messages.map((m) => [m.parent, m.content, m.sender, sqliteTime(m.timestamp)]);
  const inserted = await tx.$queryRaw<{ message_id: number | bigint }[]>`
    INSERT INTO "Message" (message_id, chat_id, content, sender, "timestamp", is_complete, parent_id)
    SELECT base.last + r.key + 1, ${chatId}, r.value ->> 1, r.value ->> 2, r.value ->> 3, true,
      base.last + (r.value ->> 0) + 1
    FROM json_each(${JSON.stringify(rows)}) r,
      (SELECT max(
        coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'Message'), 0),
        coalesce((SELECT max(message_id) FROM "Message"), 0)) AS last) base
    ORDER BY r.key
    RETURNING message_id`;
  const ids = inserted.map((r) => Number(r.message_id)).sort((a, b) => a - b);
  if (ids.length !== plan.messages.length || ids.some((id, i) => id !== (ids[0] as number) + i)) {
    throw new Error('import: the messages did not get consecutive IDs');
  }
  return ids;
}
