import { queryFromInfo } from '@pothos/plugin-prisma';
import { actingAs, chatFor } from '../../auth/access';
import { endOr, guardStream } from '../../auth/stream-guard';
import { MAX_MESSAGE_LENGTH_LIMIT } from '../../config';
import { isPrismaError } from '../../db/errors';
import type { Prisma } from '../../generated/prisma/client';
import { codePoints, limitUpTo, textSchema } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import { countedByParent, listOf } from '../../graphql/complexity';
import type { Context } from '../../graphql/context';
import { AppError, badInput, chatNotFound, notFound } from '../../graphql/errors';
import type { EventStream } from '../../graphql/pubsub';

const Sender = builder.enumType('Sender', {
  description: 'Who wrote a message.',
  values: {
    user: { description: 'The person using the app.' },
    ai: { description: 'The AI assistant.' },
  } as const,
});

const MessageRef = builder.prismaObject('Message', {
  description: 'One message of a chat.',
  fields: (t) => ({
    message_id: t.exposeInt('message_id', { description: 'The message’s ID.' }),
    chat_id: t.exposeInt('chat_id', { description: 'The chat it belongs to.' }),
    content: t.exposeString('content', { description: 'The text, exactly as sent.' }),
    sender: t.field({
      type: Sender,
      description: 'Who wrote it: "user" or "ai".',
      select: { sender: true },
      resolve: (message) => message.sender as 'user' | 'ai',
    }),
    timestamp: t.expose('timestamp', { type: 'DateTime', description: 'When the message was added.' }),
    is_complete: t.exposeBoolean('is_complete', {
      description: 'False while an AI answer is still being streamed into it (append_to_message).',
    }),
    chat: t.relation('chat', { description: 'The chat it belongs to.' }),
  }),
});

/** The chat's ID when the caller may use it (the chat access rule, src/auth/access.ts), else a 404. */
async function accessibleChatId(ctx: Context, chatId: number, userId: number | null | undefined): Promise<number> {
  const where = chatFor(ctx, chatId, userId);
  const chat = where && (await ctx.db.chat.findFirst({ where, select: { chat_id: true } }));
  if (!chat) throw chatNotFound(chatId);
  return chat.chat_id;
}

/** A chat's events, for a caller who may read the chat, for as long as they may (src/auth/stream-guard.ts). */
async function followChat<T>(
  ctx: Context,
  chatId: number,
  userId: number | null | undefined,
  subscribe: (onOverflow: () => void) => EventStream<T>,
) {
  await accessibleChatId(ctx, chatId, userId);
  return guardStream(ctx, subscribe, async () => {
    const where = chatFor(ctx, chatId, userId);
    return where !== null && (await ctx.db.chat.count({ where })) > 0;
  });
}

type NewMessage = { chat_id: number; content: string; sender: string; is_complete: boolean };
type StoredMessage = Prisma.MessageGetPayload<object>;

/**
 * PostgreSQL: one statement that checks access, moves the chat's `last_message_at` and inserts the
 * message. Its UPDATE locks the chat row until the statement commits, so within a chat the next
 * message ID is taken only once the previous message is committed: a reader never sees a later
 * ID before an earlier one, and the timestamp (never behind the chat's last one) agrees with the
 * ID order, with any number of writers and instances.
 */
async function insertInChatOrder(ctx: Context, userId: number | null | undefined, m: NewMessage) {
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
async function insertAfterCheck(ctx: Context, userId: number | null | undefined, m: NewMessage, query: object) {
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

/** Text as it can be stored, possibly empty (a streamed answer starts empty). */
const contentSchema = textSchema(MAX_MESSAGE_LENGTH_LIMIT, { allowEmpty: true });

/** Each gateway's MAX_MESSAGE_LENGTH, checked in the resolver: the schema is the same for all. */
function checkLength(ctx: Context, name: 'content' | 'delta', text: string) {
  const max = ctx.config.maxMessageLength;
  if (codePoints(text) > max) throw badInput(`${name}: must be at most ${max} characters`);
}

builder.mutationField('add_message', (t) =>
  t.prismaField({
    type: 'Message',
    description: 'Adds a message to a chat. With `user_id`, another user’s chat is reported as not found.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
      content: t.arg.string({
        required: true,
        description:
          'The text; must not be blank (unless streaming); at most MAX_MESSAGE_LENGTH characters (100,000 unless configured).',
        validate: contentSchema,
      }),
      sender: t.arg({ type: Sender, required: true, description: 'Who wrote it: "user" or "ai".' }),
      streaming: t.arg.boolean({
        description: 'An AI answer that will be streamed in with append_to_message: it may start empty.',
      }),
    },
    resolve: async (query, _root, { chat_id, user_id, content, sender, streaming }, ctx) => {
      checkLength(ctx, 'content', content);
      if (streaming && sender !== 'ai') throw badInput('streaming: only an ai message can be streamed');
      if (!streaming && content.trim() === '') throw badInput('content: must not be empty');
      const data = { chat_id, content, sender, is_complete: !streaming };
      const message =
        ctx.config.database.provider === 'postgresql'
          ? await insertInChatOrder(ctx, user_id, data)
          : await insertAfterCheck(ctx, user_id, data, query);
      ctx.pubsub.publish('message_added', chat_id, { message_id: message.message_id });
      return message;
    },
  }),
);

builder.mutationField('append_to_message', (t) =>
  t.prismaField({
    type: 'Message',
    description:
      'Streams an AI answer: appends text to a message added with `streaming: true` and tells the chat’s subscribers (message_updated). The call with `complete: true` ends it; a complete message takes no more text (409).',
    authScopes: { member: true },
    args: {
      message_id: t.arg.int({ required: true, description: 'The message being streamed.' }),
      delta: t.arg.string({
        required: true,
        description: 'The text to append (may be empty on the final call).',
        validate: contentSchema,
      }),
      complete: t.arg.boolean({ description: 'This is the last part of the answer.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
    },
    resolve: async (query, _root, { message_id, delta, complete, user_id }, ctx) => {
      checkLength(ctx, 'delta', delta);
      const found = await ctx.db.message.findUnique({ where: { message_id }, select: { chat_id: true } });
      const messageNotFound = () => notFound(`Message with ID ${message_id} not found`);
      if (!found) throw messageNotFound();
      // Another user's chat looks like a missing message; any other failure (the database) is not a 404.
      const chatId = await accessibleChatId(ctx, found.chat_id, user_id).catch((error: unknown) => {
        throw error instanceof AppError && error.code === 'NOT_FOUND' ? messageNotFound() : error;
      });
      // One statement, so concurrent appends never lose text and a completed answer stays complete.
      const done = complete ?? false;
      const changed = await ctx.db.$executeRaw`UPDATE "Message"
        SET content = content || ${delta}, is_complete = ${done}
        WHERE message_id = ${message_id} AND is_complete = ${false}
          AND length(content) + ${codePoints(delta)} <= ${ctx.config.maxMessageLength}`;
      if (changed === 0) {
        const message = await ctx.db.message.findUnique({ where: { message_id }, select: { is_complete: true } });
        if (!message) throw messageNotFound();
        if (message.is_complete) throw new AppError('CONFLICT', `Message ${message_id} is complete`);
        throw badInput(`delta: the message would exceed ${ctx.config.maxMessageLength} characters`);
      }
      ctx.pubsub.publish('message_updated', chatId, { message_id, delta, complete: done });
      return ctx.db.message.findUniqueOrThrow({ ...query, where: { message_id } });
    },
  }),
);

const MessageUpdate = builder
  .objectRef<{ message_id: number; delta: string; complete: boolean }>('MessageUpdate')
  .implement({
    description: 'Text appended to a message being streamed.',
    fields: (t) => ({
      delta: t.exposeString('delta', { description: 'The text just appended.' }),
      complete: t.exposeBoolean('complete', { description: 'True on the last part of the answer.' }),
      message: t.prismaField({
        type: 'Message',
        description: 'The message as it is now.',
        resolve: (query, update, _args, ctx) =>
          ctx.db.message.findUniqueOrThrow({ ...query, where: { message_id: update.message_id } }),
      }),
    }),
  });

builder.subscriptionFields((t) => ({
  message_added: t.prismaField({
    type: 'Message',
    description: 'Each message added to a chat, as it is added. The chat’s access rule applies.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat to follow.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
    },
    subscribe: (_root, { chat_id, user_id }, ctx) =>
      followChat(ctx, chat_id, user_id, (onOverflow) => ctx.pubsub.subscribe('message_added', chat_id, onOverflow)),
    resolve: (query, event, _args, ctx) =>
      endOr(async ({ message_id }: { message_id: number }) => {
        const message = await ctx.db.message.findUnique({ ...query, where: { message_id } });
        if (!message) throw notFound('The message was deleted');
        return message;
      })(event as never),
  }),
  message_updated: t.field({
    type: MessageUpdate,
    description:
      'Each part appended to a streamed answer in a chat (append_to_message). The chat’s access rule applies.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat to follow.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
    },
    subscribe: (_root, { chat_id, user_id }, ctx) =>
      followChat(ctx, chat_id, user_id, (onOverflow) => ctx.pubsub.subscribe('message_updated', chat_id, onOverflow)),
    resolve: endOr((event: { message_id: number; delta: string; complete: boolean }) => event),
  }),
}));

/**
 * A position in a chat's message order, opaque to clients. The order is the order of message IDs:
 * IDs come from one sequence, so they agree on every path and instance; timestamps, taken before
 * the insert, may not under concurrent writes. Cursors made before this rule carried a timestamp
 * too (`<ms>:<id>`); they still decode, by their ID.
 */
function encodeCursor(message: { message_id: number }): string {
  return Buffer.from(String(message.message_id)).toString('base64url');
}

function decodeCursor(value: string, name: string): number {
  const match = Buffer.from(value, 'base64url')
    .toString()
    .match(/^(?:\d{1,15}:)?(\d{1,10})$/);
  const id = Number(match?.[1]);
  if (!match || id >= 2 ** 31) throw badInput(`${name}: is not a cursor from this API`);
  return id;
}

type PageRequest = { first?: number | null; after?: string | null; last?: number | null; before?: string | null };
const MAX_PAGE = 200;
const DEFAULT_PAGE = 50;
const pageSize = limitUpTo(MAX_PAGE);

/**
 * One page of a chat's messages, oldest first within the page, by keyset (no OFFSET, so a
 * 5,000-message chat pages as fast at the end as at the start). Forward with first/after,
 * backward with last/before; neither: the newest page.
 */
async function pageMessages(
  ctx: Context,
  chatId: number,
  page: PageRequest,
  query: object,
): Promise<{
  nodes: MessageRow[];
  hasNext: boolean;
  hasPrevious: boolean;
}> {
  if (page.first != null && page.last != null) throw badInput('Give first or last, not both');
  for (const [name, n] of [
    ['first', page.first],
    ['last', page.last],
  ] as const) {
    if (n != null && (n < 1 || n > MAX_PAGE)) throw badInput(`${name}: must be from 1 to ${MAX_PAGE}`);
  }
  const forward = page.first != null || (page.after != null && page.before == null);
  const size = (forward ? page.first : page.last) ?? DEFAULT_PAGE;
  const where: Prisma.MessageWhereInput = {
    chat_id: chatId,
    AND: [
      ...(page.after != null ? [{ message_id: { gt: decodeCursor(page.after, 'after') } }] : []),
      ...(page.before != null ? [{ message_id: { lt: decodeCursor(page.before, 'before') } }] : []),
    ],
  };
  const direction = forward ? 'asc' : 'desc';
  const rows = await ctx.db.message.findMany({
    ...query,
    where,
    orderBy: { message_id: direction },
    take: size + 1,
  });
  const more = rows.length > size;
  const nodes = rows.slice(0, size);
  if (!forward) nodes.reverse();
  return {
    nodes,
    hasNext: forward ? more : page.before != null,
    hasPrevious: forward ? page.after != null : more,
  };
}

const PageInfo = builder
  .objectRef<{
    has_next_page: boolean;
    has_previous_page: boolean;
    start_cursor: string | null;
    end_cursor: string | null;
  }>('PageInfo')
  .implement({
    description: 'Where a page of a connection sits (Relay’s PageInfo, with this API’s snake_case names).',
    fields: (t) => ({
      has_next_page: t.exposeBoolean('has_next_page', { description: 'Newer messages follow.' }),
      has_previous_page: t.exposeBoolean('has_previous_page', { description: 'Older messages precede.' }),
      start_cursor: t.exposeString('start_cursor', { nullable: true, description: 'Cursor of the first edge.' }),
      end_cursor: t.exposeString('end_cursor', { nullable: true, description: 'Cursor of the last edge.' }),
    }),
  });

/** A message as read for a page: its columns, plus the relations the request's selection asked for. */
type MessageRow = StoredMessage;

const MessageEdge = builder.objectRef<MessageRow>('MessageEdge').implement({
  description: 'A message and its cursor.',
  fields: (t) => ({
    cursor: t.string({ description: 'Pass as after/before to page from here.', resolve: encodeCursor }),
    node: t.field({ type: MessageRef, description: 'The message.', resolve: (m) => m }),
  }),
});

const MessageConnection = builder
  .objectRef<{ nodes: MessageRow[]; hasNext: boolean; hasPrevious: boolean }>('MessageConnection')
  .implement({
    description: 'A page of a chat’s messages, oldest first.',
    fields: (t) => ({
      edges: t.field({
        type: [MessageEdge],
        description: 'The messages of the page.',
        complexity: countedByParent,
        resolve: (p) => p.nodes,
      }),
      page_info: t.field({
        type: PageInfo,
        description: 'Cursors and whether more pages exist.',
        resolve: (p) => ({
          has_next_page: p.hasNext,
          has_previous_page: p.hasPrevious,
          start_cursor: p.nodes[0] ? encodeCursor(p.nodes[0]) : null,
          end_cursor: p.nodes.at(-1) ? encodeCursor(p.nodes.at(-1) as MessageRow) : null,
        }),
      }),
    }),
  });

builder.prismaObjectFields('Chat', (t) => ({
  messages_page: t.field({
    type: MessageConnection,
    description:
      'The chat’s messages a page at a time (Relay-style): first/after pages forward from the oldest, last/before backward from the newest; neither gives the newest 50.',
    select: { chat_id: true },
    complexity: listOf((args) => args.first ?? args.last, DEFAULT_PAGE, MAX_PAGE),
    args: {
      first: t.arg.int({ description: `Page size forward, 1 to ${MAX_PAGE}.`, validate: pageSize.nullish() }),
      after: t.arg.string({ description: 'Start after this cursor.' }),
      last: t.arg.int({ description: `Page size backward, 1 to ${MAX_PAGE}.`, validate: pageSize.nullish() }),
      before: t.arg.string({ description: 'End before this cursor.' }),
    },
    // The rows are read with the selection under edges.node, so relations asked for there
    // (`node { chat { title } }`) come with them instead of one more query each.
    resolve: (chat, args, ctx, info) =>
      pageMessages(ctx, chat.chat_id, args, queryFromInfo({ context: ctx, info, path: ['edges', 'node'] })),
  }),
}));

const MessagePage = builder
  .objectRef<{ nodes: MessageRow[]; hasNext: boolean; hasPrevious: boolean }>('MessagePage')
  .implement({
    description: 'A page of a chat’s messages, oldest first, with cursors to the next and previous pages.',
    fields: (t) => ({
      items: t.field({
        type: [MessageRef],
        description: 'The messages.',
        complexity: countedByParent,
        resolve: (p) => p.nodes,
      }),
      next_cursor: t.string({
        nullable: true,
        description: 'Pass as `after` for the newer messages; null when there are none.',
        resolve: (p) => (p.hasNext && p.nodes.length > 0 ? encodeCursor(p.nodes.at(-1) as MessageRow) : null),
      }),
      prev_cursor: t.string({
        nullable: true,
        description: 'Pass as `before` for the older messages; null when there are none.',
        resolve: (p) => (p.hasPrevious && p.nodes[0] ? encodeCursor(p.nodes[0]) : null),
      }),
    }),
  });

builder.queryField('chat_messages', (t) =>
  t.field({
    type: MessagePage,
    description:
      'A chat’s messages a page at a time, for long chats: the newest page, or the page after/before a cursor. The chat’s access rule applies.',
    authScopes: { member: true },
    complexity: listOf((args) => args.limit, DEFAULT_PAGE, MAX_PAGE),
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
      limit: t.arg.int({ defaultValue: DEFAULT_PAGE, description: `Page size, 1 to ${MAX_PAGE}.`, validate: pageSize }),
      after: t.arg.string({ description: 'The page after this cursor (newer messages).' }),
      before: t.arg.string({ description: 'The page before this cursor (older messages).' }),
    },
    resolve: async (_root, args, ctx, info) => {
      await accessibleChatId(ctx, args.chat_id, args.user_id);
      if (args.after != null && args.before != null) throw badInput('Give after or before, not both');
      const limit = args.limit ?? DEFAULT_PAGE;
      return pageMessages(
        ctx,
        args.chat_id,
        args.after != null ? { first: limit, after: args.after } : { last: limit, before: args.before },
        // The selection under `items`, so `items { chat { title } }` is read with the page.
        queryFromInfo({ context: ctx, info, path: ['items'] }),
      );
    },
  }),
);
