import { apiKeyIdOf, chatFor } from '../../auth/access';
import { codePoints, textSchema } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import type { Context } from '../../graphql/context';
import { AppError, badInput, notFound } from '../../graphql/errors';
import { assertAllowance } from '../budgets/spend';
import { publishChatChange } from '../chats/events';
import { leafUnder } from './branches';
import { accessibleChat, accessibleChatId, insertInChatOrder, insertOnSqlite } from './store';
import { Sender } from './types';

/** Text as it can be stored, possibly empty (a streamed answer starts empty). */
const contentSchema = textSchema(null, { allowEmpty: true });

/** Each gateway's MAX_MESSAGE_LENGTH, checked in the resolver: the schema is the same for all. */
function checkLength(ctx: Context, name: 'content' | 'delta', text: string) {
  const max = ctx.config.maxMessageLength;
  if (codePoints(text) > max) throw badInput(`${name}: must be at most ${max} characters`);
}

/**
 * A streamed AI answer is a model call about to be made: refused (429, BUDGET_EXCEEDED) when a
 * budget of the chat's owner (or of the calling API key, or the global one) is spent. A chat the
 * caller cannot reach is left to the insert, which answers it as not found.
 */
async function assertBudgetLeft(ctx: Context, chatId: number, userId: number | null | undefined): Promise<void> {
  const where = chatFor(ctx, chatId, userId);
  const chat = where && (await ctx.db.chat.findFirst({ where, select: { user_id: true } }));
  if (!chat) return;
  const apiKeyId = apiKeyIdOf(ctx);
  await assertAllowance(ctx, { userId: chat.user_id, apiKeyId });
}

/**
 * A parent must be a message of the same chat (checked after the chat's own access, so another
 * user's chat is still a 404). Messages never move between chats, so the check cannot go stale.
 */
async function checkParent(ctx: Context, chatId: number, userId: number | null | undefined, parentId: number) {
  await accessibleChatId(ctx, chatId, userId);
  const parent = await ctx.db.message.findUnique({ where: { message_id: parentId }, select: { chat_id: true } });
  if (parent?.chat_id !== chatId) throw badInput(`parent_id: message ${parentId} is not in chat ${chatId}`);
}

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
        description:
          'The text; must not be blank (unless streaming); at most MAX_MESSAGE_LENGTH characters (100,000 unless configured).',
        validate: contentSchema,
      }),
      sender: t.arg({ type: Sender, required: true, description: 'Who wrote it: "user" or "ai".' }),
      streaming: t.arg.boolean({
        description: 'An AI answer that will be streamed in with append_to_message: it may start empty.',
      }),
      parent_id: t.arg.int({
        description:
          'The message this one answers or follows. Absent: the last message of the active branch (a plain chat’s latest message), as before branches existed. Another message of the chat starts a branch (an edited question, a regenerated answer); null starts a new first message (an edited first question). The new message becomes the end of the active branch.',
      }),
    },
    resolve: async (_query, _root, { chat_id, user_id, content, sender, streaming, parent_id }, ctx) => {
      checkLength(ctx, 'content', content);
      if (streaming && sender !== 'ai') throw badInput('streaming: only an ai message can be streamed');
      if (!streaming && content.trim() === '') throw badInput('content: must not be empty');
      if (parent_id != null) await checkParent(ctx, chat_id, user_id, parent_id);
      if (streaming) await assertBudgetLeft(ctx, chat_id, user_id);
      const data = { chat_id, content, sender, is_complete: !streaming, parent_id };
      const message =
        ctx.config.database.provider === 'postgresql'
          ? await insertInChatOrder(ctx, user_id, data)
          : await insertOnSqlite(ctx, user_id, data);
      ctx.pubsub.publish('message_added', chat_id, { message_id: message.message_id });
      ctx.metrics.increment('messages_written_total', { sender });
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
      checkLength(ctx, 'delta', delta);
      const found = await ctx.db.message.findUnique({ where: { message_id }, select: { chat_id: true } });
      const messageNotFound = () => notFound(`Message with ID ${message_id} not found`);
      if (!found) throw messageNotFound();
      // Another user's chat looks like a missing message; any other failure (the database) is not a 404.
      const chatId = await accessibleChatId(ctx, found.chat_id, user_id).catch((error: unknown) => {
        throw error instanceof AppError && error.code === 'NOT_FOUND' ? messageNotFound() : error;
      });
      // One statement, so concurrent appends never lose text and a completed answer stays complete.
      const done = complete ?? false;
      const changed = await ctx.db.$executeRaw`UPDATE "Message"
        SET content = content || ${delta}, is_complete = ${done}
        WHERE message_id = ${message_id} AND is_complete = ${false}
          AND length(content) + ${codePoints(delta)} <= ${ctx.config.maxMessageLength}`;
      if (changed === 0) {
        const message = await ctx.db.message.findUnique({ where: { message_id }, select: { is_complete: true } });
        if (!message) throw messageNotFound();
        if (message.is_complete) throw new AppError('CONFLICT', `Message ${message_id} is complete`);
        throw badInput(`delta: the message would exceed ${ctx.config.maxMessageLength} characters`);
      }
      ctx.pubsub.publish('message_updated', chatId, { message_id, delta, complete: done });
      return ctx.db.message.findUniqueOrThrow({ ...query, where: { message_id } });
    },
  }),
);

builder.mutationField('set_active_branch', (t) =>
  t.prismaField({
    type: 'Chat',
    description:
      'Chooses which branch of a chat is shown (`messages`, `GET /chats/{chat_id}`, paging and export follow it) and continued (a new message without `parent_id` follows its last message). `message_id` is any message on the wanted path: a leaf, or one above it, in which case the branch ends at the latest message added below it. Answers the chat with its messages, as `GET /chats/{chat_id}`.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat’s ID.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
      message_id: t.arg.int({ required: true, description: 'A message of the chat on the wanted branch.' }),
    },
    resolve: async (query, _root, { chat_id, user_id, message_id }, ctx) => {
      const chat = await accessibleChat(ctx, chat_id, user_id, { user_id: true, active_leaf_id: true });
      const leaf = await leafUnder(ctx.db, chat_id, message_id);
      if (leaf == null) throw badInput(`message_id: message ${message_id} is not in chat ${chat_id}`);
      if (leaf !== chat.active_leaf_id) {
        await ctx.db.chat.update({ where: { chat_id }, data: { active_leaf_id: leaf }, select: { chat_id: true } });
        publishChatChange(ctx, chat.user_id, chat_id, 'BRANCH_SWITCHED');
      }
      return ctx.db.chat.findUniqueOrThrow({ ...query, where: { chat_id } });
    },
  }),
);
