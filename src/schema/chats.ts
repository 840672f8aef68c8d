import { type ActingAs, actingAs, authEnabled } from '../auth';
import { builder } from '../builder';
import { config } from '../config';
import type { Context } from '../context';
import { isPrismaError, prisma } from '../db';
import { badInput, chatNotFound, forbidden } from '../errors';
import type { Prisma } from '../generated/prisma/client';
import { DEFAULT_LIMIT, pageArgs, textSchema } from './inputs';
import { assertUserExists, unknownUser } from './users';

/**
 * The access rule of the chat routes: with a `user_id`, only that user's chats and anonymous
 * chats are reachable; anything else looks exactly like a chat that does not exist.
 */
export function accessibleChat(chatId: number, userId: number | null | undefined): Prisma.ChatWhereInput {
  return userId == null ? { chat_id: chatId } : { chat_id: chatId, OR: [{ user_id: null }, { user_id: userId }] };
}

/**
 * The access rule for a caller: who they act as (src/auth.ts), then the rule above. Null when
 * they name another user, which is answered like a missing chat.
 */
export function chatFor(ctx: Context, chatId: number, givenUserId: number | null | undefined) {
  const who = actingAs(ctx, givenUserId);
  return who.allowed ? accessibleChat(chatId, who.userId) : null;
}

const ownerOf = (who: ActingAs & { allowed: true }) => (who.userId == null ? {} : { user_id: who.userId });

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
  const empty = { messages: { none: {} } };
  return graceSeconds === 0 ? empty : { ...empty, created_at: { lt: new Date(Date.now() - graceSeconds * 1000) } };
}

/** Newest first; chats made in the same millisecond keep their creation order (reversed). */
export const newestFirst: Prisma.ChatOrderByWithRelationInput[] = [{ created_at: 'desc' }, { chat_id: 'desc' }];

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
    messages: t.relation('messages', {
      description: 'All messages of the chat, oldest first (ties by message ID).',
      query: { orderBy: [{ timestamp: 'asc' }, { message_id: 'asc' }] },
    }),
    user: t.relation('user', { nullable: true, description: 'The owner; null for an anonymous chat.' }),
  }),
});

builder.prismaObjectField('User', 'chats', (t) =>
  t.relation('chats', {
    description: 'The user’s chats, newest first.',
    args: {
      ...pageArgs(t.arg, 'chats'),
    },
    query: ({ limit, offset }) => ({ orderBy: newestFirst, take: limit ?? DEFAULT_LIMIT, skip: offset ?? 0 }),
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
      const chat = where && (await prisma.chat.findFirst({ ...query, where }));
      if (!chat) throw chatNotFound(chat_id);
      return chat;
    },
  }),
  chats: t.prismaField({
    type: ['Chat'],
    description:
      'Recent chats, newest first, optionally only those of one user. With authentication on, only the caller’s own (an admin sees all).',
    authScopes: { member: true },
    args: {
      user_id: t.arg.int({ description: 'Only this user’s chats.' }),
      ...pageArgs(t.arg, 'chats'),
    },
    resolve: async (query, _root, { user_id, limit, offset }, ctx) => {
      const who = actingAs(ctx, user_id);
      if (!who.allowed) return [];
      return prisma.chat.findMany({
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
      if (who.userId != null) await assertUserExists(who.userId);
      return prisma.chat.create({ ...query, data: { user_id: who.userId } }).catch(unknownUser(who.userId));
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
      const where = authEnabled && !ctx.isAdmin ? accessibleChat(chat_id, ctx.userId) : { chat_id };
      if (user_id != null && !actingAs(ctx, user_id).allowed) {
        throw forbidden('Only an admin can move a chat to another user');
      }
      if (user_id != null) await assertUserExists(user_id);
      const data = { ...(title == null ? {} : { title: title.trim() }), ...(user_id == null ? {} : { user_id }) };
      const chat =
        Object.keys(data).length === 0
          ? await prisma.chat.findFirst({ ...query, where })
          : await prisma.chat
              .update({ ...query, where: { ...where, chat_id }, data })
              .catch(nullIfMissing)
              .catch(unknownUser(user_id));
      if (!chat) throw chatNotFound(chat_id);
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
      // One DELETE: the foreign keys remove the messages and detach the usage rows atomically.
      const { count } = where ? await prisma.chat.deleteMany({ where }) : { count: 0 };
      if (count === 0) throw chatNotFound(chat_id);
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
      const where = ownerOf(who);
      const { count } = await prisma.chat.deleteMany({
        where: { ...where, ...emptySince(config.emptyChatGraceSeconds) },
      });
      return { message: `Deleted ${count} empty chats`, deleted_count: count };
    },
  }),
}));
