import { actingAs } from '../../auth/access';
import { DEFAULT_LIMIT, pageArgs, pageComplexity } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import { forbidden } from '../../graphql/errors';
import { usageSummary } from './summary';
import { UsageGroupBy, UsageSummary } from './types';

builder.queryField('model_usage', (t) =>
  t.prismaField({
    type: ['ModelUsage'],
    description:
      'Model usage records, newest first, optionally only those of one user and/or chat. With authentication on, callers see only their own (an admin sees all).',
    authScopes: { member: true },
    complexity: pageComplexity,
    args: {
      user_id: t.arg.int({ description: 'Only this user’s records.' }),
      chat_id: t.arg.int({ description: 'Only this chat’s records.' }),
      ...pageArgs(t.arg, 'records'),
    },
    resolve: async (query, _root, { user_id, chat_id, limit, offset }, ctx) => {
      const who = actingAs(ctx, user_id);
      if (!who.allowed) return [];
      return ctx.db.modelUsage.findMany({
        ...query,
        where: { ...(who.userId == null ? {} : { user_id: who.userId }), ...(chat_id == null ? {} : { chat_id }) },
        orderBy: [{ timestamp: 'desc' }, { usage_id: 'desc' }],
        take: limit ?? DEFAULT_LIMIT,
        skip: offset ?? 0,
      });
    },
  }),
);

builder.queryField('usage_summary', (t) =>
  t.field({
    type: UsageSummary,
    description:
      'Usage and cost, summed and grouped by model, provider, user, chat and/or day. With authentication on, callers see only their own (an admin sees everyone’s).',
    authScopes: { member: true },
    args: {
      user_id: t.arg.int({ description: 'Only this user’s calls.' }),
      chat_id: t.arg.int({ description: 'Only this chat’s calls.' }),
      from: t.arg.string({
        description:
          'Start (inclusive): a date (2026-11-01, its start in time_zone) or an ISO 8601 instant with offset.',
      }),
      to: t.arg.string({ description: 'End (exclusive), like from; default now.' }),
      group_by: t.arg({ type: [UsageGroupBy], description: 'Group keys; none: one row of totals.' }),
      time_zone: t.arg.string({ description: 'IANA time zone for days and dates, e.g. "Europe/Paris"; default UTC.' }),
    },
    resolve: async (_root, args, ctx) => {
      const who = actingAs(ctx, args.user_id);
      if (!who.allowed) throw forbidden('You can only see your own usage');
      return usageSummary(ctx.db, { ...args, user_id: who.userId });
    },
  }),
);
