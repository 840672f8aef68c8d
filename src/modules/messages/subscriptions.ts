import { chatFor } from '../../auth/access';
import { endOr, guardStream } from '../../auth/stream-guard';
import { builder } from '../../graphql/builder';
import type { Context } from '../../graphql/context';
import { notFound } from '../../graphql/errors';
import type { EventStream } from '../../graphql/pubsub';
import { accessibleChatId } from './store';
import { MessageUpdate } from './types';

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
