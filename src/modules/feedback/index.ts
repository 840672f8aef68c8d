// The feedback domain: thumbs up or down on AI answers, with a reason, and their export for admins.
import { endOr, guardStream } from '../../auth/stream-guard';
import { isPrismaError } from '../../db/errors';
import { DEFAULT_LIMIT, pageArgs, pageComplexity, textSchema } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import type { Context } from '../../graphql/context';
import { badInput, notFound } from '../../graphql/errors';
import { accessibleChatId } from '../messages/store';
import { type FeedbackRow, feedbackFilter, feedbackPage, MAX_COMMENT_LENGTH, MAX_REASON_LENGTH } from './rows';

const FeedbackRating = builder.enumType('FeedbackRating', {
  description: 'Thumbs up or down.',
  values: {
    up: { description: 'A good answer.' },
    down: { description: 'A bad answer.' },
  } as const,
});

builder.prismaObject('MessageFeedback', {
  name: 'Feedback',
  description: 'The feedback on one AI answer: one per message, replaced by the next.',
  fields: (t) => ({
    message_id: t.exposeInt('message_id', { description: 'The AI message it is on.' }),
    chat_id: t.exposeInt('chat_id', { description: 'The chat of the message.' }),
    rating: t.field({ type: FeedbackRating, description: 'Up or down.', resolve: (f) => f.rating as 'up' | 'down' }),
    reason: t.exposeString('reason', {
      nullable: true,
      description: `A short label for why (e.g. "inaccurate"), at most ${MAX_REASON_LENGTH} characters; null when none.`,
    }),
    comment: t.exposeString('comment', {
      nullable: true,
      description: `Free text, at most ${MAX_COMMENT_LENGTH} characters; null when none.`,
    }),
    created_at: t.expose('created_at', { type: 'DateTime', description: 'When feedback was first given on it.' }),
    updated_at: t.expose('updated_at', { type: 'DateTime', description: 'When it was last set.' }),
    message: t.relation('message', { description: 'The AI message it is on.' }),
  }),
});

builder.prismaObjectFields('Message', (t) => ({
  feedback: t.relation('feedback', {
    nullable: true,
    description: 'The feedback on this AI answer; null when none was given (always null on a user message).',
  }),
}));

const FeedbackRowRef = builder.objectRef<FeedbackRow>('FeedbackExportRow').implement({
  description: 'One feedback as exported: the feedback, its chat’s owner, the question, the answer and the model.',
  fields: (t) => ({
    message_id: t.exposeInt('message_id', { description: 'The AI message (the answer).' }),
    chat_id: t.exposeInt('chat_id', { description: 'Its chat.' }),
    user_id: t.exposeInt('user_id', { nullable: true, description: 'The chat’s owner; null for an anonymous chat.' }),
    rating: t.exposeString('rating', { description: '"up" or "down".' }),
    reason: t.exposeString('reason', { nullable: true, description: 'The reason label, if any.' }),
    comment: t.exposeString('comment', { nullable: true, description: 'The comment, if any.' }),
    created_at: t.expose('created_at', { type: 'DateTime', description: 'When feedback was first given.' }),
    updated_at: t.expose('updated_at', { type: 'DateTime', description: 'When it was last set.' }),
    question: t.exposeString('question', {
      nullable: true,
      description: 'The nearest user message above the answer, following parent_id (its branch); null when none.',
    }),
    answer: t.exposeString('answer', { description: 'The AI message’s content.' }),
    model_name: t.exposeString('model_name', {
      nullable: true,
      description:
        'The model of the latest usage record of the chat at or before the answer’s timestamp; null when none.',
    }),
  }),
});

/** Optional text: trimmed; blank is none (null). */
const optionalText = (max: number) => textSchema(max, { allowEmpty: true }).optional().nullable();
const orNull = (text: string | null | undefined) => (text == null || text.trim() === '' ? null : text.trim());

/** The AI message the caller may give feedback on: in that chat, which the chat access rule lets them use. */
async function answerFor(ctx: Context, chatId: number, messageId: number, userId: number | null | undefined) {
  await accessibleChatId(ctx, chatId, userId);
  const message = await ctx.db.message.findFirst({
    where: { message_id: messageId, chat_id: chatId },
    select: { message_id: true, sender: true },
  });
  if (!message) throw notFound(`Message with ID ${messageId} not found in chat ${chatId}`);
  return message;
}

const DeleteFeedbackResult = builder.objectRef<{ message: string }>('DeleteFeedbackResult').implement({
  description: 'What `delete_feedback` did.',
  fields: (t) => ({ message: t.exposeString('message', { description: 'E.g. "Feedback on message 7 deleted".' }) }),
});

builder.mutationFields((t) => ({
  set_feedback: t.prismaField({
    type: 'MessageFeedback',
    description: `Gives feedback on an AI answer, or replaces the feedback already there (\`created_at\` stays, \`updated_at\` moves). Only on \`ai\` messages; the chat access rule of the chat routes applies. \`reason\` at most ${MAX_REASON_LENGTH} characters, \`comment\` at most ${MAX_COMMENT_LENGTH}; both trimmed, and blank is none (null). Admins hear it on \`feedback_given\`.`,
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat.' }),
      message_id: t.arg.int({ required: true, description: 'The AI message, in that chat.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
      rating: t.arg({ type: FeedbackRating, required: true, description: 'Up or down.' }),
      reason: t.arg.string({
        description: `A short label for why, at most ${MAX_REASON_LENGTH} characters; blank or absent: none.`,
        validate: optionalText(MAX_REASON_LENGTH),
      }),
      comment: t.arg.string({
        description: `Free text, at most ${MAX_COMMENT_LENGTH} characters; blank or absent: none.`,
        validate: optionalText(MAX_COMMENT_LENGTH),
      }),
    },
    resolve: async (query, _root, args, ctx) => {
      const message = await answerFor(ctx, args.chat_id, args.message_id, args.user_id);
      if (message.sender !== 'ai') {
        throw badInput(`message_id: message ${args.message_id} is a user message; feedback is only on AI answers`);
      }
      const values = { rating: args.rating, reason: orNull(args.reason), comment: orNull(args.comment) };
      const write = () =>
        ctx.db.messageFeedback.upsert({
          ...query,
          where: { message_id: message.message_id },
          create: { message_id: message.message_id, chat_id: args.chat_id, ...values },
          update: { ...values, updated_at: new Date() },
        });
      let feedback: Awaited<ReturnType<typeof write>>;
      try {
        feedback = await write();
      } catch (error) {
        // Two first PUTs at once: the loser's insert hits the key, and it replaces instead.
        if (isPrismaError(error, 'P2002')) feedback = await write();
        else if (isPrismaError(error, 'P2003')) throw notFound(`Message with ID ${args.message_id} not found`);
        else throw error;
      }
      ctx.pubsub.publish('feedback_given', 0, { message_id: message.message_id });
      return feedback;
    },
  }),
  delete_feedback: t.field({
    type: DeleteFeedbackResult,
    description: 'Deletes the feedback on an AI answer; the chat access rule of the chat routes applies.',
    authScopes: { member: true },
    args: {
      chat_id: t.arg.int({ required: true, description: 'The chat.' }),
      message_id: t.arg.int({ required: true, description: 'The message, in that chat.' }),
      user_id: t.arg.int({ description: 'The caller’s user ID, for access control.' }),
    },
    resolve: async (_root, { chat_id, message_id, user_id }, ctx) => {
      await answerFor(ctx, chat_id, message_id, user_id);
      const { count } = await ctx.db.messageFeedback.deleteMany({ where: { message_id, chat_id } });
      if (count === 0) throw notFound(`No feedback on message ${message_id}`);
      return { message: `Feedback on message ${message_id} deleted` };
    },
  }),
}));

builder.queryField('feedback_export', (t) =>
  t.field({
    type: [FeedbackRowRef],
    description:
      'Feedback rows for analysis, by message_id, a page at a time (GET /feedback streams them all as CSV or JSON). Admins only.',
    authScopes: { admin: true },
    complexity: pageComplexity,
    args: {
      from: t.arg.string({
        description: 'Only feedback last set at or after this: a date (UTC) or an ISO 8601 instant with offset.',
        validate: textSchema(40).optional().nullable(),
      }),
      to: t.arg.string({
        description: 'Only feedback last set before this, like from.',
        validate: textSchema(40).optional().nullable(),
      }),
      rating: t.arg({ type: FeedbackRating, description: 'Only this rating.' }),
      ...pageArgs(t.arg, 'rows'),
    },
    resolve: (_root, args, ctx) =>
      feedbackPage(ctx.db, feedbackFilter(args), { skip: args.offset ?? 0, take: args.limit ?? DEFAULT_LIMIT }),
  }),
);

builder.subscriptionField('feedback_given', (t) =>
  t.prismaField({
    type: 'MessageFeedback',
    description: 'Each feedback as it is given or replaced, on any instance (with REDIS_URL). Admins only.',
    authScopes: { admin: true },
    subscribe: (_root, _args, ctx) =>
      guardStream(ctx, (onOverflow) => ctx.pubsub.subscribe('feedback_given', 0, onOverflow)),
    resolve: (query, event, _args, ctx) =>
      endOr(async ({ message_id }: { message_id: number }) => {
        const feedback = await ctx.db.messageFeedback.findUnique({ ...query, where: { message_id } });
        if (!feedback) throw notFound('The feedback was deleted');
        return feedback;
      })(event as never),
  }),
);
