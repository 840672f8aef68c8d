import { actingAs } from '../../auth/access';
import { endOr, guardStream } from '../../auth/stream-guard';
import { builder } from '../../graphql/builder';
import { forbidden } from '../../graphql/errors';
import type { ChatChangeKind } from '../../graphql/pubsub';
import { ChatChangeKindEnum } from './types';

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
      'Each chat of a user created, renamed, organised (moved to a folder, tagged, pinned, archived) or deleted (by its owner or the retention sweep), or given to or taken from the user, so every open tab keeps its chat list. With authentication on, only your own.',
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
