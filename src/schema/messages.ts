import { builder } from '../builder';
import { config } from '../config';
import { isPrismaError, prisma } from '../db';
import { chatNotFound } from '../errors';
import { chatFor } from './chats';
import { textSchema } from './inputs';

const Sender = builder.enumType('Sender', {
  description: 'Who wrote a message.',
  values: {
    user: { description: 'The person using the app.' },
    ai: { description: 'The AI assistant.' },
  } as const,
});

builder.prismaObject('Message', {
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
    chat: t.relation('chat', { description: 'The chat it belongs to.' }),
  }),
});

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
        description: `The text; must not be blank; at most ${config.maxMessageLength} characters.`,
        validate: textSchema(config.maxMessageLength),
      }),
      sender: t.arg({ type: Sender, required: true, description: 'Who wrote it: "user" or "ai".' }),
    },
    resolve: async (query, _root, { chat_id, user_id, content, sender }, ctx) => {
      const where = chatFor(ctx, chat_id, user_id);
      const chat = where && (await prisma.chat.findFirst({ where, select: { chat_id: true } }));
      if (!chat) throw chatNotFound(chat_id);
      try {
        return await prisma.message.create({ ...query, data: { chat_id, content, sender } });
      } catch (error) {
        // The chat was deleted between the check and the insert.
        if (isPrismaError(error, 'P2003')) throw chatNotFound(chat_id);
        throw error;
      }
    },
  }),
);
