import { stillValid } from '../auth';
import { builder } from '../builder';
import { config } from '../config';
import type { Context } from '../context';
import { isPrismaError, prisma } from '../db';
import { AppError, badInput, chatNotFound } from '../errors';
import { pubsub } from '../events';
import type { Prisma } from '../generated/prisma/client';
import { countedByParent, listOf } from '../graphql/complexity';
import { chatFor } from './chats';
import { codePoints, limitUpTo, textSchema } from './inputs';

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

/** The chat's ID when the caller may use it (the access rule of src/schema/chats.ts), else a 404. */
async function accessibleChatId(ctx: Context, chatId: number, userId: number | null | undefined): Promise<number> {
  const where = chatFor(ctx, chatId, userId);
  const chat = where && (await prisma.chat.findFirst({ where, select: { chat_id: true } }));
  if (!chat) throw chatNotFound(chatId);
  return chat.chat_id;
}

/**
 * Passes a chat's events on for as long as the caller may still read the chat: it can change
 * owner, and a token can expire or a key be revoked, long after the subscription began.
 */
async function* whileAllowed<T>(
  ctx: Context,
  chatId: number,
  userId: number | null | undefined,
  events: AsyncIterable<T>,
): AsyncGenerator<T> {
  for await (const event of events) {
    const where = chatFor(ctx, chatId, userId);
    const allowed = where !== null && (await stillValid(ctx)) && (await prisma.chat.count({ where })) > 0;
    if (!allowed) return;
    yield event;
  }
}

/** A chat's events, for a caller who may read the chat, for as long as they may. */
async function followChat<T>(
  ctx: Context,
  chatId: number,
  userId: number | null | undefined,
  subscribe: () => AsyncIterable<T>,
) {
  await accessibleChatId(ctx, chatId, userId);
  return whileAllowed(ctx, chatId, userId, subscribe());
}

/** Text as it can be stored, possibly empty (a streamed answer starts empty). */
const contentSchema = textSchema(config.maxMessageLength, { allowEmpty: true });

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
        description: `The text; must not be blank (unless streaming); at most ${config.maxMessageLength} characters.`,
        validate: contentSchema,
      }),
      sender: t.arg({ type: Sender, required: true, description: 'Who wrote it: "user" or "ai".' }),
      streaming: t.arg.boolean({
        description: 'An AI answer that will be streamed in with append_to_message: it may start empty.',
      }),
    },
    resolve: async (query, _root, { chat_id, user_id, content, sender, streaming }, ctx) => {
      if (streaming && sender !== 'ai') throw badInput('streaming: only an ai message can be streamed');
      if (!streaming && content.trim() === '') throw badInput('content: must not be empty');
      await accessibleChatId(ctx, chat_id, user_id);
      let message: Prisma.MessageGetPayload<object>;
      try {
        message = await prisma.message.create({
          ...query,
          data: { chat_id, content, sender, is_complete: !streaming },
        });
      } catch (error) {
        // The chat was deleted between the check and the insert.
        if (isPrismaError(error, 'P2003')) throw chatNotFound(chat_id);
        throw error;
      }
      // Only forward: a concurrent add with a later time may have been here first.
      await prisma.chat.updateMany({
        where: { chat_id, OR: [{ last_message_at: null }, { last_message_at: { lt: message.timestamp } }] },
        data: { last_message_at: message.timestamp },
      });
      pubsub.publish('message_added', chat_id, { message_id: message.message_id });
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
      const found = await prisma.message.findUnique({ where: { message_id }, select: { chat_id: true } });
      if (!found) throw new AppError('NOT_FOUND', `Message with ID ${message_id} not found`);
      const chatId = await accessibleChatId(ctx, found.chat_id, user_id).catch(() => {
        throw new AppError('NOT_FOUND', `Message with ID ${message_id} not found`);
      });
      // One statement, so concurrent appends never lose text and a completed answer stays complete.
      const done = complete ?? false;
      const changed = await prisma.$executeRaw`UPDATE "Message"
        SET content = content || ${delta}, is_complete = ${done}
        WHERE message_id = ${message_id} AND is_complete = ${false}
          AND length(content) + ${codePoints(delta)} <= ${config.maxMessageLength}`;
      if (changed === 0) {
        const message = await prisma.message.findUnique({ where: { message_id }, select: { is_complete: true } });
        if (!message) throw new AppError('NOT_FOUND', `Message with ID ${message_id} not found`);
        if (message.is_complete) throw new AppError('CONFLICT', `Message ${message_id} is complete`);
        throw badInput(`delta: the message would exceed ${config.maxMessageLength} characters`);
      }
      pubsub.publish('message_updated', chatId, { message_id, delta, complete: done });
      return prisma.message.findUniqueOrThrow({ ...query, where: { message_id } });
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
        resolve: (query, update) =>
          prisma.message.findUniqueOrThrow({ ...query, where: { message_id: update.message_id } }),
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
      followChat(ctx, chat_id, user_id, () => pubsub.subscribe('message_added', chat_id)),
    resolve: async (query, event) => {
      const message = await prisma.message.findUnique({
        ...query,
        where: { message_id: (event as { message_id: number }).message_id },
      });
      if (!message) throw new AppError('NOT_FOUND', 'The message was deleted');
      return message;
    },
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
      followChat(ctx, chat_id, user_id, () => pubsub.subscribe('message_updated', chat_id)),
    resolve: (event) => event,
  }),
}));

/** A position in a chat's message order (time, then ID), opaque to clients. */
type Cursor = { at: Date; id: number };

function encodeCursor(message: { timestamp: Date; message_id: number }): string {
  return Buffer.from(`${message.timestamp.getTime()}:${message.message_id}`).toString('base64url');
}

function decodeCursor(value: string, name: string): Cursor {
  const match = Buffer.from(value, 'base64url')
    .toString()
    .match(/^(\d{1,15}):(\d{1,10})$/);
  const [at, id] = [Number(match?.[1]), Number(match?.[2])];
  // Bounds of what the databases store: 32-bit IDs, and years up to 9999.
  if (!match || id >= 2 ** 31 || at > 253_402_300_799_999) throw badInput(`${name}: is not a cursor from this API`);
  return { at: new Date(at), id };
}

const after = (c: Cursor): Prisma.MessageWhereInput => ({
  OR: [{ timestamp: { gt: c.at } }, { timestamp: c.at, message_id: { gt: c.id } }],
});
const before = (c: Cursor): Prisma.MessageWhereInput => ({
  OR: [{ timestamp: { lt: c.at } }, { timestamp: c.at, message_id: { lt: c.id } }],
});

type PageRequest = { first?: number | null; after?: string | null; last?: number | null; before?: string | null };
const MAX_PAGE = 200;
const DEFAULT_PAGE = 50;
const pageSize = limitUpTo(MAX_PAGE);

/**
 * One page of a chat's messages, oldest first within the page, by keyset (no OFFSET, so a
 * 5,000-message chat pages as fast at the end as at the start). Forward with first/after,
 * backward with last/before; neither: the newest page.
 */
async function pageMessages(chatId: number, page: PageRequest, query: object = {}) {
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
      ...(page.after != null ? [after(decodeCursor(page.after, 'after'))] : []),
      ...(page.before != null ? [before(decodeCursor(page.before, 'before'))] : []),
    ],
  };
  const direction = forward ? 'asc' : 'desc';
  const rows = await prisma.message.findMany({
    ...query,
    where,
    orderBy: [{ timestamp: direction }, { message_id: direction }],
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

type MessageRow = { message_id: number; timestamp: Date };

const MessageEdge = builder.objectRef<MessageRow>('MessageEdge').implement({
  description: 'A message and its cursor.',
  fields: (t) => ({
    cursor: t.string({ description: 'Pass as after/before to page from here.', resolve: encodeCursor }),
    node: t.field({ type: MessageRef, description: 'The message.', resolve: (m) => m as never }),
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
    resolve: (chat, args) => pageMessages(chat.chat_id, args),
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
        resolve: (p) => p.nodes as never,
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
    resolve: async (_root, args, ctx) => {
      await accessibleChatId(ctx, args.chat_id, args.user_id);
      if (args.after != null && args.before != null) throw badInput('Give after or before, not both');
      const limit = args.limit ?? DEFAULT_PAGE;
      return pageMessages(
        args.chat_id,
        args.after != null ? { first: limit, after: args.after } : { last: limit, before: args.before },
      );
    },
  }),
);
