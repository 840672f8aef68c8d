import { accessibleChat, actingAs, chatFor, ownerOf } from '../../auth/access';
import { endOr, guardStream } from '../../auth/stream-guard';
import { isPrismaError } from '../../db/errors';
import type { Prisma } from '../../generated/prisma/client';
import { DEFAULT_LIMIT, limitUpTo, pageArgs, pageComplexity, textSchema } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import { fixedList, listOf } from '../../graphql/complexity';
import type { Context } from '../../graphql/context';
import { badInput, chatNotFound, forbidden } from '../../graphql/errors';
import type { ChatChangeKind } from '../../graphql/pubsub';
import { type RelationPage, relationPage } from '../../graphql/relation-pages';
import { assertUserExists, unknownUser } from '../users/schema';
import { SNIPPETS_PER_CHAT, searchChats } from './search';

/** `update` of a row that is not there (P2025) is a not-found, not a crash. */
export function nullIfMissing(error: unknown): null {
  if (isPrismaError(error, 'P2025')) return null;
  throw error;
}

/**
 * "Empty" for cleanup: no message, and (with a grace period) old enough that its first message
 * cannot still be on its way. The default grace is 0, as the documented API behaves.
 */
function emptySince(graceSeconds: number): Prisma.ChatWhereInput {
  // `last_message_at` is on the chat row itself, which a first message's insert updates under a
  // row lock (PostgreSQL's add_message statement): a DELETE that waited on that lock re-checks the
  // row and leaves the chat alone, where the NOT EXISTS on messages alone would still see no
  // message (its snapshot predates the insert) and delete an acknowledged message with the chat.
  const empty = { last_message_at: null, messages: { none: {} } };
  return graceSeconds === 0 ? empty : { ...empty, created_at: { lt: new Date(Date.now() - graceSeconds * 1000) } };
}

/**
 * What `Chat.messages` returns without a limit: enough for a chat screen, and small enough that
 * nesting it (`messages { chat { messages } }`) goes over the complexity limit.
 */
const DEFAULT_MESSAGES = 200;
const maxMessages = (ctx: Context) => ctx.config.maxMessagesPerRead;
const defaultMessages = (ctx: Context) => Math.min(DEFAULT_MESSAGES, maxMessages(ctx));

/** Newest first; chats made in the same millisecond keep their creation order (reversed). */
export const newestFirst: Prisma.ChatOrderByWithRelationInput[] = [{ created_at: 'desc' }, { chat_id: 'desc' }];

/** A chat's messages oldest first (ties by message ID); a read takes the newest of them. */
const chatMessages: RelationPage = {
  table: 'Message',
  id: 'message_id',
  parent: 'chat_id',
  order: [{ message_id: 'asc' }],
  newest: true,
};

const userChats: RelationPage = {
  table: 'Chat',
  id: 'chat_id',
  parent: 'user_id',
  order: newestFirst,
};

const titleSchema = textSchema(200);

builder.prismaObject('Chat', {
  description: 'A conversation between a user (or an anonymous visitor) and the AI.',
  fields: (t) => ({
    chat_id: t.exposeInt('chat_id', { description: 'The chat’s ID.' }),
    user_id: t.exposeInt('user_id', {
      nullable: true,
      description: 'The owner’s user ID; null for an anonymous chat.',
    }),
    title: t.exposeString('title', { description: 'Title shown in the chat list; "New Chat" until renamed.' }),
    created_at: t.expose('created_at', { type: 'DateTime', description: 'When the chat was created.' }),
    messages: t.prismaField({
      type: ['Message'],
      description:
        'The chat’s latest messages, in order (a chat’s order is the order of its message IDs): the newest `limit` of them. Over REST, `GET /chats/{chat_id}` returns up to MAX_MESSAGES_PER_READ (1000 unless configured); page with `messages_page` (or `GET /chats/{chat_id}/messages`) to read further back.',
      args: {
        limit: t.arg.int({
          required: false,
          description: `How many of the newest messages, 1 to MAX_MESSAGES_PER_READ (1000 unless configured); by default ${DEFAULT_MESSAGES}, or MAX_MESSAGES_PER_READ if lower.`,
          validate: limitUpTo(Number.MAX_SAFE_INTEGER),
        }),
      },
      complexity: listOf((args) => args.limit, defaultMessages, maxMessages),
      select: { chat_id: true },
      resolve: (query, chat, { limit }, ctx) => {
        // The maximum is each gateway's (MAX_MESSAGES_PER_READ), so it is checked here, not by the schema.
        if (limit != null && limit > maxMessages(ctx)) throw badInput(`limit: must be at most ${maxMessages(ctx)}`);
        return relationPage<Prisma.MessageGetPayload<object>>(
          ctx,
          chatMessages,
          chat.chat_id,
          { limit: limit ?? defaultMessages(ctx) },
          query,
        );
      },
    }),
    user: t.relation('user', { nullable: true, description: 'The owner; null for an anonymous chat.' }),
    message_count: t.relationCount('messages', {
      description: 'How many messages the chat has (counted in the same query as the chat).',
    }),
    last_message_at: t.expose('last_message_at', {
      type: 'DateTime',
      nullable: true,
      description: 'When the latest message was added; null while the chat is empty.',
    }),
  }),
});

/** Tells the owner's chat_changed subscribers. Anonymous chats have no one to tell. */
export function publishChatChange(
  ctx: Context,
  userId: number | null | undefined,
  chatId: number,
  kind: ChatChangeKind,
) {
  if (userId != null) ctx.pubsub.publish('chat_changed', userId, { chat_id: chatId, kind });
}

builder.prismaObjectField('User', 'chats', (t) =>
  t.prismaField({
    type: ['Chat'],
    description: 'The user’s chats, newest first.',
    args: {
      ...pageArgs(t.arg, 'chats'),
    },
    complexity: pageComplexity,
    select: { user_id: true },
    resolve: (query, user, { limit, offset }, ctx) =>
      relationPage<Prisma.ChatGetPayload<object>>(
        ctx,
        userChats,
        user.user_id,
        { limit: limit ?? DEFAULT_LIMIT, offset: offset ?? 0 },
        query,
      ),
  }),
);

const DeleteChatResult = builder
  .objectRef<{ message: string; preserved_model_usage: boolean }>('DeleteChatResult')
  .implement({
    description: 'What `delete_chat` did.',
    fields: (t) => ({
      message: t.exposeString('message', { description: 'E.g. "Chat 456 deleted successfully".' }),
      preserved_model_usage: t.exposeBoolean('preserved_model_usage', {
        description: 'Always true: the chat’s model usage records are kept, with `chat_id` set to null.',
      }),
    }),
  });

const CleanupResult = builder.objectRef<{ message: string; deleted_count: number }>('CleanupResult').implement({
  description: 'What `cleanup_empty_chats` did.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'E.g. "Deleted 5 empty chats".' }),
    deleted_count: t.exposeInt('deleted_count', { description: 'How many chats were deleted.' }),
  }),
});

builder.queryFields((t) => ({
  chat: t.prismaField({
    type: 'Chat',
    description: 'One chat. With `user_id`, another user’s chat is reported as not found.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
    },
    resolve: async (query, _root, { chat_id, user_id }, ctx) => {
      const where = chatFor(ctx, chat_id, user_id);
      const chat = where && (await ctx.db.chat.findFirst({ ...query, where }));
      if (!chat) throw chatNotFound(chat_id);
      return chat;
    },
  }),
  chats: t.prismaField({
    type: ['Chat'],
    description:
      'Recent chats, newest first, optionally only those of one user. With authentication on, only the caller’s own (an admin sees all).',
    authScopes: { member: true },
    complexity: pageComplexity,
    args: {
      user_id: t.arg.int({ description: 'Only this user’s chats.' }),
      ...pageArgs(t.arg, 'chats'),
    },
    resolve: async (query, _root, { user_id, limit, offset }, ctx) => {
      const who = actingAs(ctx, user_id);
      if (!who.allowed) return [];
      return ctx.db.chat.findMany({
        ...query,
        where: ownerOf(who),
        orderBy: newestFirst,
        take: limit ?? DEFAULT_LIMIT,
        skip: offset ?? 0,
      });
    },
  }),
}));

builder.mutationFields((t) => ({
  create_chat: t.prismaField({
    type: 'Chat',
    description:
      'Creates a chat titled "New Chat"; without `user_id` the chat is anonymous (with authentication on, it is the caller’s).',
    authScopes: { member: true },
    args: { user_id: t.arg.int({ description: 'The owner’s user ID; must exist.' }) },
    resolve: async (query, _root, { user_id }, ctx) => {
      const who = actingAs(ctx, user_id);
      if (!who.allowed) throw forbidden('You can only create chats for yourself');
      if (who.userId != null) await assertUserExists(ctx, who.userId);
      const chat = await ctx.db.chat.create({ ...query, data: { user_id: who.userId } }).catch(unknownUser(who.userId));
      publishChatChange(ctx, chat.user_id, chat.chat_id, 'CREATED');
      return chat;
    },
  }),
  update_chat: t.prismaField({
    type: 'Chat',
    description:
      'Renames a chat and/or moves it to another existing user. Absent or null fields stay unchanged. With authentication on, callers change only their own (or anonymous) chats, and only an admin moves a chat to someone else.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      title: t.arg.string({
        description: 'New title, 1 to 200 characters.',
        validate: titleSchema.optional().nullable(),
      }),
      user_id: t.arg.int({ description: 'New owner’s user ID; must exist.' }),
    },
    resolve: async (query, _root, { chat_id, title, user_id }, ctx) => {
      // The new owner is not "acting as": only the chat's access is checked against the caller.
      const where = ctx.auth.enabled && !ctx.isAdmin ? accessibleChat(chat_id, ctx.userId) : { chat_id };
      if (user_id != null && !actingAs(ctx, user_id).allowed) {
        throw forbidden('Only an admin can move a chat to another user');
      }
      if (user_id != null) await assertUserExists(ctx, user_id);
      const before = await ctx.db.chat.findFirst({ where, select: { user_id: true } });
      if (!before) throw chatNotFound(chat_id);
      const data = { ...(title == null ? {} : { title: title.trim() }), ...(user_id == null ? {} : { user_id }) };
      const chat =
        Object.keys(data).length === 0
          ? await ctx.db.chat.findFirst({ ...query, where })
          : await ctx.db.chat
              .update({ ...query, where: { ...where, chat_id }, data })
              .catch(nullIfMissing)
              .catch(unknownUser(user_id));
      if (!chat) throw chatNotFound(chat_id);
      if (Object.keys(data).length > 0) {
        const owner = user_id ?? before.user_id;
        if (owner !== before.user_id) publishChatChange(ctx, before.user_id, chat_id, 'DELETED');
        publishChatChange(ctx, owner, chat_id, owner !== before.user_id ? 'CREATED' : 'UPDATED');
      }
      return chat;
    },
  }),
  delete_chat: t.field({
    type: DeleteChatResult,
    description: 'Deletes a chat and all its messages. Model usage records are kept, with `chat_id` set to null.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
    },
    resolve: async (_root, { chat_id, user_id }, ctx) => {
      const where = chatFor(ctx, chat_id, user_id);
      const chat = where && (await ctx.db.chat.findFirst({ where, select: { user_id: true } }));
      // One DELETE: the foreign keys remove the messages and detach the usage rows atomically.
      const { count } = where && chat ? await ctx.db.chat.deleteMany({ where }) : { count: 0 };
      if (count === 0) throw chatNotFound(chat_id);
      publishChatChange(ctx, chat?.user_id, chat_id, 'DELETED');
      return { message: `Chat ${chat_id} deleted successfully`, preserved_model_usage: true };
    },
  }),
  cleanup_empty_chats: t.field({
    type: CleanupResult,
    description:
      'Deletes the chats without any message of one user. With `is_admin: true` and no `user_id`, deletes every empty chat (anonymous ones too); that needs an admin caller (the `X-Admin-API-Key`, or an admin token).',
    authScopes: { member: true },
    args: {
      user_id: t.arg.int({ description: 'Whose empty chats to delete.' }),
      is_admin: t.arg.boolean({ defaultValue: false, description: 'With no `user_id`: all users’ empty chats.' }),
    },
    resolve: async (_root, { user_id, is_admin }, ctx) => {
      if (user_id == null && is_admin && !ctx.isAdmin) {
        throw forbidden('Deleting every user’s empty chats needs an admin (X-Admin-API-Key)');
      }
      const who = actingAs(ctx, user_id);
      if (!who.allowed) throw forbidden('You can only clean up your own chats');
      if (who.userId == null && !is_admin) throw badInput('user_id is required (or is_admin: true as an admin)');
      const empty = { ...ownerOf(who), ...emptySince(ctx.config.emptyChatGraceSeconds) };
      const candidates = await ctx.db.chat.findMany({ where: empty, select: { chat_id: true, user_id: true } });
      // The emptiness is checked again by the DELETE itself: a first message may have arrived since.
      const { count } = await ctx.db.chat.deleteMany({
        where: { ...empty, chat_id: { in: candidates.map((c) => c.chat_id) } },
      });
      const left = new Set(
        count === candidates.length
          ? []
          : (
              await ctx.db.chat.findMany({
                where: { chat_id: { in: candidates.map((c) => c.chat_id) } },
                select: { chat_id: true },
              })
            ).map((c) => c.chat_id),
      );
      for (const c of candidates) if (!left.has(c.chat_id)) publishChatChange(ctx, c.user_id, c.chat_id, 'DELETED');
      return { message: `Deleted ${count} empty chats`, deleted_count: count };
    },
  }),
}));

const ChatChangeKindEnum = builder.enumType('ChatChangeKind', {
  description: 'What happened to a chat.',
  values: {
    CREATED: { description: 'Created, or moved to this user.' },
    UPDATED: { description: 'Renamed.' },
    DELETED: { description: 'Deleted, or moved to another user.' },
  } as const,
});

const ChatChange = builder.objectRef<{ chat_id: number; kind: ChatChangeKind }>('ChatChange').implement({
  description: 'A change to one of a user’s chats.',
  fields: (t) => ({
    kind: t.field({ type: ChatChangeKindEnum, description: 'What happened.', resolve: (c) => c.kind }),
    chat_id: t.exposeInt('chat_id', { description: 'The chat’s ID.' }),
    chat: t.prismaField({
      type: 'Chat',
      nullable: true,
      description: 'The chat as it is now; null once deleted (or moved away).',
      resolve: (query, c, _args, ctx) =>
        c.kind === 'DELETED' ? null : ctx.db.chat.findUnique({ ...query, where: { chat_id: c.chat_id } }),
    }),
  }),
});

builder.subscriptionField('chat_changed', (t) =>
  t.field({
    type: ChatChange,
    description:
      'Each chat of a user created, renamed or deleted (or moved in or out), so every open tab keeps its chat list. With authentication on, only your own.',
    authScopes: { member: true },
    args: { user_id: t.arg.int({ required: true, description: 'Whose chats to follow.' }) },
    subscribe: (_root, { user_id }, ctx) => {
      const who = actingAs(ctx, user_id);
      if (!who.allowed) throw forbidden('You can only follow your own chats');
      return guardStream(ctx, (onOverflow) => ctx.pubsub.subscribe('chat_changed', user_id, onOverflow));
    },
    resolve: endOr((change: { chat_id: number; kind: ChatChangeKind }) => change),
  }),
);

const ExportFormat = builder.enumType('ExportFormat', {
  description: 'How to export a chat.',
  values: {
    json: { description: 'The chat and its messages as JSON, with the REST API’s keys.' },
    markdown: { description: 'A readable Markdown transcript.' },
  } as const,
});

const ChatExport = builder
  .objectRef<{ filename: string; content_type: string; content: string }>('ChatExport')
  .implement({
    description: 'A chat exported as a file.',
    fields: (t) => ({
      filename: t.exposeString('filename', { description: 'A file name for the download.' }),
      content_type: t.exposeString('content_type', { description: 'Its media type.' }),
      content: t.exposeString('content', { description: 'The file’s text.' }),
    }),
  });

type ExportedChat = {
  chat_id: number;
  title: string;
  created_at: Date;
  user_id: number | null;
  messages: { message_id: number; content: string; sender: string; timestamp: Date }[];
};

function toMarkdown(chat: ExportedChat): string {
  const lines = [`# ${chat.title}`, '', `Chat ${chat.chat_id}, started ${chat.created_at.toISOString()}.`, ''];
  for (const m of chat.messages) {
    lines.push(`## ${m.sender === 'ai' ? 'AI' : 'User'} · ${m.timestamp.toISOString()}`, '', m.content, '');
  }
  return lines.join('\n');
}

builder.queryField('export_chat', (t) =>
  t.field({
    type: ChatExport,
    description: 'A chat and all its messages as a JSON or Markdown file. The chat’s access rule applies.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
      format: t.arg({ type: ExportFormat, defaultValue: 'json', description: 'json (default) or markdown.' }),
    },
    resolve: async (_root, { chat_id, user_id, format }, ctx) => {
      const where = chatFor(ctx, chat_id, user_id);
      const chat =
        where &&
        (await ctx.db.chat.findFirst({
          where,
          select: {
            chat_id: true,
            title: true,
            created_at: true,
            user_id: true,
            messages: {
              select: { message_id: true, content: true, sender: true, timestamp: true },
              orderBy: { message_id: 'asc' },
            },
          },
        }));
      if (!chat) throw chatNotFound(chat_id);
      if (format === 'markdown') {
        return {
          filename: `chat-${chat_id}.md`,
          content_type: 'text/markdown; charset=utf-8',
          content: toMarkdown(chat),
        };
      }
      const messages = chat.messages.map(({ message_id, content, sender, timestamp }) => ({
        message_id,
        chat_id,
        content,
        sender,
        timestamp,
      }));
      const json = { chat_id, title: chat.title, created_at: chat.created_at, user_id: chat.user_id, messages };
      return {
        filename: `chat-${chat_id}.json`,
        content_type: 'application/json; charset=utf-8',
        content: `${JSON.stringify(json, null, 2)}\n`,
      };
    },
  }),
);

const SearchMatch = builder
  .objectRef<{ message_id: number; snippet: string; timestamp: Date }>('SearchMatch')
  .implement({
    description: 'A message that matches a search, as an excerpt with the matching words in **bold**.',
    fields: (t) => ({
      message_id: t.exposeInt('message_id', { description: 'The message’s ID.' }),
      snippet: t.exposeString('snippet', { description: 'An excerpt around the match.' }),
      timestamp: t.expose('timestamp', { type: 'DateTime', description: 'When the message was added.' }),
    }),
  });

type SearchResult = {
  chat_id: number;
  user_id: number | null;
  title: string;
  created_at: Date;
  matches: { message_id: number; snippet: string; timestamp: Date }[];
};

const ChatSearchResult = builder.objectRef<SearchResult>('ChatSearchResult').implement({
  description: 'A chat that matches a search, by its title or its messages.',
  fields: (t) => ({
    chat_id: t.exposeInt('chat_id', { description: 'The chat’s ID.' }),
    user_id: t.exposeInt('user_id', {
      nullable: true,
      description: 'The owner’s user ID; null for an anonymous chat.',
    }),
    title: t.exposeString('title', { description: 'The chat’s title.' }),
    created_at: t.expose('created_at', { type: 'DateTime', description: 'When the chat was created.' }),
    matches: t.field({
      type: [SearchMatch],
      description: 'Up to 3 matching messages, newest first (none when only the title matches).',
      complexity: fixedList(SNIPPETS_PER_CHAT),
      resolve: (r) => r.matches,
    }),
  }),
});

builder.queryField('search_chats', (t) =>
  t.field({
    type: [ChatSearchResult],
    description:
      'Full-text search over chat titles and message content: chats newest first, each with up to 3 matching messages. Every word of the query must match.',
    authScopes: { member: true },
    complexity: pageComplexity,
    args: {
      query: t.arg.string({ required: true, description: 'Words to find.', validate: textSchema(500) }),
      user_id: t.arg.int({ description: 'Only this user’s chats.' }),
      ...pageArgs(t.arg, 'chats'),
    },
    resolve: async (_root, { query, user_id, limit, offset }, ctx) => {
      const who = actingAs(ctx, user_id);
      if (!who.allowed) return [];
      const hits = await searchChats(ctx, query, who.userId, limit ?? DEFAULT_LIMIT, offset ?? 0);
      const chats = await ctx.db.chat.findMany({
        where: { chat_id: { in: hits.map((h) => h.chat_id) } },
        select: { chat_id: true, user_id: true, title: true, created_at: true },
      });
      const byId = new Map(chats.map((c) => [c.chat_id, c]));
      return hits.flatMap((h) => {
        const chat = byId.get(h.chat_id);
        return chat ? [{ ...chat, matches: h.snippets }] : [];
      });
    },
  }),
);
