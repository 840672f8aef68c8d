// The retention domain: how long inactive chats are kept, per user and globally (issue: organise chats).
import { z } from 'zod';
import { actingAs } from '../../auth/access';
import { MAX_RETENTION_DAYS } from '../../config';
import { limitUpTo } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import { fixedList } from '../../graphql/complexity';
import type { Context } from '../../graphql/context';
import { badInput, forbidden, notFound } from '../../graphql/errors';
import { previewRetention, type RetentionCandidate, type RetentionPreview } from './sweep';

type UserRetention = { user_id: number; days: number | null; effective_days: number | null };

const UserRetentionRef = builder.objectRef<UserRetention>('UserRetention').implement({
  description:
    'A user’s retention policy: their chats inactive (no message, no change) for this many days are deleted, with their messages; pinned chats never are, and model usage is kept.',
  fields: (t) => ({
    user_id: t.exposeInt('user_id', { description: 'The user’s ID.' }),
    days: t.exposeInt('days', {
      nullable: true,
      description: 'The user’s own policy, in days; null: the global one (RETENTION_DAYS) applies.',
    }),
    effective_days: t.exposeInt('effective_days', {
      nullable: true,
      description: 'The policy in force for this user: their own, else the global one; null: chats are kept.',
    }),
  }),
});

const RetentionCandidateRef = builder.objectRef<RetentionCandidate>('RetentionCandidate').implement({
  description: 'A chat the next retention sweep would delete.',
  fields: (t) => ({
    chat_id: t.exposeInt('chat_id', { description: 'The chat’s ID.' }),
    user_id: t.exposeInt('user_id', {
      nullable: true,
      description: 'The owner’s user ID; null for an anonymous chat.',
    }),
    title: t.exposeString('title', { description: 'The chat’s title.' }),
    last_activity_at: t.expose('last_activity_at', {
      type: 'DateTime',
      description: 'Its latest activity: created, a message added, or changed.',
    }),
    retention_days: t.exposeInt('retention_days', { description: 'The policy it falls under, in days.' }),
  }),
});

const MAX_PREVIEW = 1000;
const DEFAULT_PREVIEW = 100;

const RetentionPreviewRef = builder.objectRef<RetentionPreview>('RetentionPreview').implement({
  description: 'What the next retention sweep would delete, if it ran now.',
  fields: (t) => ({
    global_days: t.exposeInt('global_days', {
      nullable: true,
      description: 'The global policy (RETENTION_DAYS), in days; null: none.',
    }),
    total: t.exposeInt('total', { description: 'How many chats it would delete.' }),
    chats: t.field({
      type: [RetentionCandidateRef],
      description: `The first of them (\`limit\`, ${DEFAULT_PREVIEW} unless given), oldest first, policy by policy.`,
      // Its length is the parent's `limit`, which a child's complexity cannot see: counted at most.
      complexity: fixedList(MAX_PREVIEW),
      resolve: (p) => p.chats,
    }),
  }),
});

const daysSchema = z
  .number()
  .int()
  .min(1, 'must be at least 1')
  .max(MAX_RETENTION_DAYS, `must be at most ${MAX_RETENTION_DAYS}`)
  .nullable()
  .optional();

/** The user's policy, or 404 when there is no such user (or the caller may not see them). */
async function retentionOf(ctx: Context, userId: number): Promise<UserRetention> {
  const user = await ctx.db.user.findUnique({ where: { user_id: userId }, select: { retention_days: true } });
  if (!user) throw notFound(`User with ID ${userId} not found`);
  return {
    user_id: userId,
    days: user.retention_days,
    effective_days: user.retention_days ?? ctx.config.retentionDays,
  };
}

builder.queryFields((t) => ({
  user_retention: t.field({
    type: UserRetentionRef,
    description: 'A user’s retention policy. With authentication on, your own (an admin sees anyone’s).',
    authScopes: { member: true },
    args: { user_id: t.arg.int({ required: true, description: 'The user’s ID.' }) },
    resolve: (_root, { user_id }, ctx) => {
      if (!actingAs(ctx, user_id).allowed) throw notFound(`User with ID ${user_id} not found`);
      return retentionOf(ctx, user_id);
    },
  }),
  retention_preview: t.field({
    type: RetentionPreviewRef,
    description:
      'What the next retention sweep would delete if it ran now: inactive, unpinned chats past their owner’s policy (or the global one). Admins only.',
    authScopes: { admin: true },
    args: {
      limit: t.arg.int({
        defaultValue: DEFAULT_PREVIEW,
        description: `How many of the chats to list, 1 to ${MAX_PREVIEW} (\`total\` counts them all).`,
        validate: limitUpTo(MAX_PREVIEW),
      }),
    },
    resolve: (_root, { limit }, ctx) => previewRetention(ctx.db, ctx.config.retentionDays, limit ?? DEFAULT_PREVIEW),
  }),
}));

builder.mutationField('set_user_retention', (t) =>
  t.field({
    type: UserRetentionRef,
    description: `Sets a user’s retention policy: chats inactive for \`days\` days (1 to ${MAX_RETENTION_DAYS}) are deleted by the periodic sweep; null: the global policy applies. With authentication on, your own, or anyone’s as an admin.`,
    authScopes: { member: true },
    args: {
      user_id: t.arg.int({ required: true, description: 'The user’s ID.' }),
      days: t.arg.int({
        description: 'Days of inactivity after which a chat is deleted; null: follow the global policy.',
        validate: daysSchema,
      }),
    },
    resolve: async (_root, { user_id, days }, ctx) => {
      if (!actingAs(ctx, user_id).allowed) throw forbidden('You can only set your own retention');
      if (days === undefined) throw badInput('days: required (a number of days, or null for the global policy)');
      const { count } = await ctx.db.user.updateMany({ where: { user_id }, data: { retention_days: days } });
      if (count === 0) throw notFound(`User with ID ${user_id} not found`);
      return retentionOf(ctx, user_id);
    },
  }),
);
