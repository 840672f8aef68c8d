import { accessibleChat, actingAs, chatFor, ownerOf } from '../../auth/access';
import { isPrismaError } from '../../db/errors';
import type { Prisma } from '../../generated/prisma/client';
import { builder } from '../../graphql/builder';
import { badInput, chatNotFound, forbidden } from '../../graphql/errors';
import { assertUserExists, unknownUser } from '../users';
import { organisationChanges, publishChatChange } from './events';
import { assertFolderFor, MAX_TAG_LENGTH, MAX_TAGS, normalizeTags } from './organise';
import { CleanupResult, DeleteChatResult, titleSchema } from './types';

/** `update` of a row that is not there (P2025) is a not-found, not a crash. */
function nullIfMissing(error: unknown): null {
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
      'Renames a chat, moves it to another existing user, puts it in a folder, tags, pins or archives it. Absent fields stay unchanged; null does too, except `folder_id: null`, which takes it out of its folder. With authentication on, callers change only their own (or anonymous) chats, and only an admin moves a chat to someone else.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      title: t.arg.string({
        description: 'New title, 1 to 200 characters.',
        validate: titleSchema.optional().nullable(),
      }),
      user_id: t.arg.int({ description: 'New owner’s user ID; must exist. The chat leaves its folder.' }),
      folder_id: t.arg.int({ description: 'A folder of the chat’s owner to put it in; null: out of any folder.' }),
      tags: t.arg.stringList({
        description: `Its tags, replacing the ones it has: at most ${MAX_TAGS}, each 1 to ${MAX_TAG_LENGTH} characters, stored lower-case and once.`,
      }),
      pinned: t.arg.boolean({ description: 'Pin or unpin it.' }),
      archived: t.arg.boolean({ description: 'Archive it (left out of the chat list) or bring it back.' }),
    },
    resolve: async (query, _root, { chat_id, title, user_id, folder_id, tags, pinned, archived }, ctx) => {
      // The new owner is not "acting as": only the chat's access is checked against the caller.
      const where = ctx.auth.enabled && !ctx.isAdmin ? accessibleChat(chat_id, ctx.userId) : { chat_id };
      if (user_id != null && !actingAs(ctx, user_id).allowed) {
        throw forbidden('Only an admin can move a chat to another user');
      }
      if (user_id != null) await assertUserExists(ctx, user_id);
      const before = await ctx.db.chat.findFirst({
        where,
        select: { user_id: true, folder_id: true, pinned: true, archived: true, tags: { select: { tag: true } } },
      });
      if (!before) throw chatNotFound(chat_id);
      const owner = user_id ?? before.user_id;
      if (folder_id != null) await assertFolderFor(ctx, folder_id, owner);
      const normalizedTags = tags == null ? null : normalizeTags(tags);
      // A chat given to someone else leaves its folder, which stays its old owner's.
      const leavesFolder = folder_id === undefined && owner !== before.user_id && before.folder_id !== null;
      const data: Prisma.ChatUncheckedUpdateInput = {
        ...(title == null ? {} : { title: title.trim() }),
        ...(user_id == null ? {} : { user_id }),
        ...(folder_id === undefined && !leavesFolder ? {} : { folder_id: folder_id ?? null }),
        ...(normalizedTags === null
          ? {}
          : { tags: { deleteMany: {}, create: normalizedTags.map((tag) => ({ tag })) } }),
        ...(pinned == null ? {} : { pinned }),
        ...(archived == null ? {} : { archived }),
      };
      // A change is activity: the retention policy counts from it (modules/retention).
      if (Object.keys(data).length > 0) data.updated_at = new Date();
      const chat =
        Object.keys(data).length === 0
          ? await ctx.db.chat.findFirst({ ...query, where })
          : await ctx.db.chat
              .update({ ...query, where: { ...where, chat_id }, data })
              .catch(nullIfMissing)
              .catch(async (error: unknown) => {
                // The folder was deleted after the check above (its foreign key refused the write).
                if (folder_id != null && isPrismaError(error, 'P2003')) {
                  const still = await ctx.db.folder.count({ where: { folder_id } });
                  if (still === 0) throw badInput(`folder_id: folder ${folder_id} not found`);
                }
                return unknownUser(user_id)(error);
              });
      if (!chat) throw chatNotFound(chat_id);
      if (owner !== before.user_id) {
        publishChatChange(ctx, before.user_id, chat_id, 'DELETED');
        publishChatChange(ctx, owner, chat_id, 'CREATED');
      } else {
        const changes = organisationChanges(
          title != null,
          { ...before, tags: before.tags.map((t) => t.tag) },
          {
            ...(folder_id === undefined ? {} : { folder_id }),
            ...(normalizedTags === null ? {} : { tags: normalizedTags }),
            ...(pinned == null ? {} : { pinned }),
            ...(archived == null ? {} : { archived }),
          },
        );
        for (const kind of changes) publishChatChange(ctx, owner, chat_id, kind);
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
