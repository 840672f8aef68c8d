import type { Prisma } from '../../generated/prisma/client';
import { DEFAULT_LIMIT, limitUpTo, pageArgs, pageComplexity, textSchema } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import { fixedList, listOf } from '../../graphql/complexity';
import type { Context } from '../../graphql/context';
import { badInput } from '../../graphql/errors';
import { joinsRelations, type RelationPage, relationPage } from '../../graphql/relation-pages';
import { activeBranchMessages, branchSelect } from '../messages/branches';
import { MAX_TAGS } from './organise';
import { SNIPPETS_PER_CHAT } from './search';

/**
 * What `Chat.messages` returns without a limit: enough for a chat screen, and small enough that
 * nesting it (`messages { chat { messages } }`) goes over the complexity limit.
 */
const DEFAULT_MESSAGES = 200;
export const maxMessages = (ctx: Context) => ctx.config.maxMessagesPerRead;
const defaultMessages = (ctx: Context) => Math.min(DEFAULT_MESSAGES, maxMessages(ctx));
/** The page size a read asks for; one over the maximum is refused by the resolver, not cut here. */
export const messagesLimit = (limit: number | null | undefined, ctx: Context) =>
  Math.min(limit ?? defaultMessages(ctx), maxMessages(ctx));

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

/** chatMessages as a nested Prisma read: newest first, reversed by the resolver. */
const newestMessages = { orderBy: { message_id: 'desc' } } as const;

const userChats: RelationPage = {
  table: 'Chat',
  id: 'chat_id',
  parent: 'user_id',
  order: newestFirst,
};

export const titleSchema = textSchema(200);

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
        'The chat’s latest messages on its active branch, in order (a chat’s order is the order of its message IDs): the newest `limit` of them. A chat that never branched is all its messages; one that did is the path from its first message to `active_leaf_id`. Over REST, `GET /chats/{chat_id}` returns up to MAX_MESSAGES_PER_READ (1000 unless configured); page with `messages_page` (or `GET /chats/{chat_id}/messages`) to read further back.',
      args: {
        limit: t.arg.int({
          required: false,
          description: `How many of the newest messages, 1 to MAX_MESSAGES_PER_READ (1000 unless configured); by default ${DEFAULT_MESSAGES}, or MAX_MESSAGES_PER_READ if lower.`,
          validate: limitUpTo(Number.MAX_SAFE_INTEGER),
        }),
      },
      complexity: listOf((args) => args.limit, defaultMessages, maxMessages),
      // On PostgreSQL the page is part of the chat's own statement (a lateral join: see
      // joinsRelations); elsewhere relationPage reads it, batched over the chats of a request.
      select: (args, ctx, nestedSelection) =>
        joinsRelations(ctx)
          ? {
              ...branchSelect,
              messages: nestedSelection({ ...newestMessages, take: messagesLimit(args.limit, ctx) }),
            }
          : branchSelect,
      resolve: (query, chat, { limit }, ctx) => {
        // The maximum is each gateway's (MAX_MESSAGES_PER_READ), so it is checked here, not by the schema.
        if (limit != null && limit > maxMessages(ctx)) throw badInput(`limit: must be at most ${maxMessages(ctx)}`);
        // A chat with branches: the path to its active leaf (a plain chat is read as it always was).
        if (chat.branched) return activeBranchMessages(ctx.db, chat, query, messagesLimit(limit, ctx));
        const joined = (chat as { messages?: Prisma.MessageGetPayload<object>[] }).messages;
        // Read newest first, to take the newest; answered oldest first.
        if (joined) return [...joined].reverse();
        return relationPage<Prisma.MessageGetPayload<object>>(
          ctx,
          chatMessages,
          chat.chat_id,
          { limit: messagesLimit(limit, ctx) },
          query,
        );
      },
    }),
    message_tree: t.prismaField({
      type: ['Message'],
      description:
        'Every message of the chat, on every branch, in the order added (each with its `parent_id`, from which a client draws the tree): the newest `limit` of them, like `messages`.',
      args: {
        limit: t.arg.int({
          required: false,
          description: `How many of the newest messages, 1 to MAX_MESSAGES_PER_READ; by default ${DEFAULT_MESSAGES}, or MAX_MESSAGES_PER_READ if lower.`,
          validate: limitUpTo(Number.MAX_SAFE_INTEGER),
        }),
      },
      complexity: listOf((args) => args.limit, defaultMessages, maxMessages),
      select: { chat_id: true },
      resolve: async (query, chat, { limit }, ctx) => {
        if (limit != null && limit > maxMessages(ctx)) throw badInput(`limit: must be at most ${maxMessages(ctx)}`);
        const newest = await ctx.db.message.findMany({
          ...query,
          where: { chat_id: chat.chat_id },
          orderBy: { message_id: 'desc' },
          take: messagesLimit(limit, ctx),
        });
        return newest.reverse();
      },
    }),
    active_leaf_id: t.exposeInt('active_leaf_id', {
      nullable: true,
      description:
        'The last message of the active branch (what `messages` ends with, and what a new message follows by default): the latest message added, unless another branch was chosen. Null while the chat is empty.',
    }),
    branched: t.exposeBoolean('branched', {
      description: 'True once a message started a branch; until then the chat is simply all its messages.',
    }),
    user: t.relation('user', { nullable: true, description: 'The owner; null for an anonymous chat.' }),
    folder_id: t.exposeInt('folder_id', { nullable: true, description: 'The folder it is in; null: in none.' }),
    folder: t.relation('folder', { nullable: true, description: 'The folder it is in; null: in none.' }),
    pinned: t.exposeBoolean('pinned', { description: 'Pinned by its owner (list them with `pinned: true`).' }),
    archived: t.exposeBoolean('archived', {
      description: 'Archived: left out of the chat list unless it asks for `archived: true`.',
    }),
    tags: t.field({
      type: ['String'],
      description: `Its tags, lower-case, alphabetical (at most ${MAX_TAGS}).`,
      complexity: fixedList(MAX_TAGS),
      select: { tags: { select: { tag: true }, orderBy: { tag: 'asc' } } },
      resolve: (chat) => chat.tags.map((t) => t.tag),
    }),
    message_count: t.relationCount('messages', {
      description: 'How many messages the chat has (counted in the same query as the chat).',
    }),
    last_message_at: t.expose('last_message_at', {
      type: 'DateTime',
      nullable: true,
      description: 'When the latest message was added; null while the chat is empty.',
    }),
    updated_at: t.expose('updated_at', {
      type: 'DateTime',
      nullable: true,
      description:
        'When the chat itself was last changed through `update_chat` (renamed, given, filed, tagged, pinned, archived); null: never. Retention counts inactivity from the latest of this, `last_message_at` and `created_at`.',
    }),
  }),
});

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

export const DeleteChatResult = builder
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

export const CleanupResult = builder.objectRef<{ message: string; deleted_count: number }>('CleanupResult').implement({
  description: 'What `cleanup_empty_chats` did.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'E.g. "Deleted 5 empty chats".' }),
    deleted_count: t.exposeInt('deleted_count', { description: 'How many chats were deleted.' }),
  }),
});

export const ChatChangeKindEnum = builder.enumType('ChatChangeKind', {
  description: 'What happened to a chat.',
  values: {
    CREATED: { description: 'Created, or moved to this user.' },
    UPDATED: { description: 'Renamed.' },
    DELETED: { description: 'Deleted (by its owner, or by the retention sweep), or moved to another user.' },
    MOVED: { description: 'Put in a folder, or taken out of one (also when its folder was deleted).' },
    TAGGED: { description: 'Its tags changed.' },
    PINNED: { description: 'Pinned.' },
    UNPINNED: { description: 'Unpinned.' },
    ARCHIVED: { description: 'Archived.' },
    UNARCHIVED: { description: 'Brought back from the archive.' },
    SHARED: { description: 'A share link to it was made.' },
    UNSHARED: { description: 'A share link to it was revoked.' },
    BRANCH_SWITCHED: {
      description: 'Its active branch was switched (PUT /chats/{chat_id}/active-branch): read the chat again.',
    },
  } as const,
});

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

export const ChatSearchResult = builder.objectRef<SearchResult>('ChatSearchResult').implement({
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
