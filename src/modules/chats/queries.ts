import type { ArgBuilder } from '@pothos/core';
import { actingAs, chatFor, ownerOf } from '../../auth/access';
import { DEFAULT_LIMIT, pageArgs, pageComplexity, textSchema } from '../../graphql/args';
import { type BuilderTypes, builder } from '../../graphql/builder';
import { chatNotFound } from '../../graphql/errors';
import { chatFilters } from './organise';
import { searchChats } from './search';
import { ChatSearchResult, newestFirst } from './types';

/** The chat list's filters, on `chats` and `search_chats` alike. */
function filterArgs(arg: ArgBuilder<PothosSchemaTypes.ExtendDefaultTypes<BuilderTypes>>) {
  return {
    folder_id: arg.int({ description: 'Only the chats in this folder (not in its sub-folders).' }),
    tag: arg.stringList({ description: 'Only the chats having every one of these tags.' }),
    pinned: arg.boolean({ description: 'true: only pinned chats; false: only the others.' }),
    archived: arg.boolean({ description: 'Archived chats are left out; true lists only them.' }),
  };
}

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
      ...filterArgs(t.arg),
      ...pageArgs(t.arg, 'chats'),
    },
    resolve: async (query, _root, { user_id, limit, offset, ...filters }, ctx) => {
      const who = actingAs(ctx, user_id);
      if (!who.allowed) return [];
      return ctx.db.chat.findMany({
        ...query,
        where: { ...ownerOf(who), ...chatFilters(filters) },
        orderBy: newestFirst,
        take: limit ?? DEFAULT_LIMIT,
        skip: offset ?? 0,
      });
    },
  }),
}));

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
      ...filterArgs(t.arg),
      ...pageArgs(t.arg, 'chats'),
    },
    resolve: async (_root, { query, user_id, limit, offset, ...filters }, ctx) => {
      const who = actingAs(ctx, user_id);
      if (!who.allowed) return [];
      const hits = await searchChats(ctx, query, who.userId, limit ?? DEFAULT_LIMIT, offset ?? 0, filters);
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
