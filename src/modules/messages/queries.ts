import { queryFromInfo } from '@pothos/plugin-prisma';
import { builder } from '../../graphql/builder';
import { listOf } from '../../graphql/complexity';
import { badInput } from '../../graphql/errors';
import { branchSelect } from './branches';
import { DEFAULT_PAGE, MAX_PAGE, pageMessages, pageSize } from './paging';
import { accessibleChat } from './store';
import { MessageConnection, MessagePage } from './types';

builder.prismaObjectFields('Chat', (t) => ({
  messages_page: t.field({
    type: MessageConnection,
    description:
      'The chat’s messages (its active branch) a page at a time (Relay-style): first/after pages forward from the oldest, last/before backward from the newest; neither gives the newest 50.',
    select: branchSelect,
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
      pageMessages(ctx, chat, args, queryFromInfo({ context: ctx, info, path: ['edges', 'node'] })),
  }),
}));

builder.queryField('chat_messages', (t) =>
  t.field({
    type: MessagePage,
    description:
      'A chat’s messages (its active branch) a page at a time, for long chats: the newest page, or the page after/before a cursor. The chat’s access rule applies.',
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
      const chat = await accessibleChat(ctx, args.chat_id, args.user_id, branchSelect);
      if (args.after != null && args.before != null) throw badInput('Give after or before, not both');
      const limit = args.limit ?? DEFAULT_PAGE;
      return pageMessages(
        ctx,
        chat,
        args.after != null ? { first: limit, after: args.after } : { last: limit, before: args.before },
        // The selection under `items`, so `items { chat { title } }` is read with the page.
        queryFromInfo({ context: ctx, info, path: ['items'] }),
      );
    },
  }),
);
