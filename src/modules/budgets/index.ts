// The budgets domain: spending limits on the usage ledger, their allowance and their alerts
// (issue: budgets and spend alerts).
import { z } from 'zod';
import { actingAs, apiKeyIdOf } from '../../auth/access';
import { endOr, guardStream } from '../../auth/stream-guard';
import { isPrismaError } from '../../db/errors';
import { DEFAULT_LIMIT, pageArgs, pageComplexity, textSchema } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import { fixedList } from '../../graphql/complexity';
import type { Context } from '../../graphql/context';
import { badInput, notFound } from '../../graphql/errors';
import { canonicalTimeZone } from '../usage/time-zones';
import { PERIODS, type Period, periodAt } from './periods';
import { type Allowance, allowanceFor, type BudgetRow, FRESH_ALLOWANCE, percentsOf, stateOf, usd } from './spend';

const SCOPES = ['user', 'api_key', 'global'] as const;
const DEFAULT_PERCENTS = [50, 80, 100];
const MAX_PERCENTS = 10;
/** A billion dollars: more than any budget, and far inside a BigInt of micro-dollars. */
const MAX_LIMIT_USD = 1_000_000_000;

const BudgetScope = builder.enumType('BudgetScope', {
  description: 'Whose spend a budget limits.',
  values: {
    user: { description: 'One user’s calls (`user_id`).' },
    api_key: { description: 'The calls recorded with one API key (`api_key_id`, AUTH_MODE=api-key).' },
    global: { description: 'Every call.' },
  } as const,
});

const BudgetPeriod = builder.enumType('BudgetPeriod', {
  description: 'A budget’s calendar period, in its time zone.',
  values: {
    day: { description: 'From local midnight to the next.' },
    week: { description: 'From Monday’s local midnight to the next Monday’s.' },
    month: { description: 'From the 1st’s local midnight to the next month’s.' },
  } as const,
});

builder.prismaObject('Budget', {
  description:
    'A spending limit on the usage ledger: per user, per API key or global, per calendar period. Spend at or over the limit is refused further streamed AI answers (429) until the period ends, and alerts are raised as spend crosses its percentages.',
  fields: (t) => ({
    budget_id: t.exposeInt('budget_id', { description: 'The budget’s ID.' }),
    scope: t.field({ type: BudgetScope, description: 'Whose spend it limits.', resolve: (b) => b.scope as never }),
    user_id: t.exposeInt('user_id', { nullable: true, description: 'The user, for a `user` budget.' }),
    api_key_id: t.exposeInt('api_key_id', { nullable: true, description: 'The API key, for an `api_key` budget.' }),
    period: t.field({ type: BudgetPeriod, description: 'Its calendar period.', resolve: (b) => b.period as never }),
    limit_usd: t.float({ description: 'The limit per period, in USD.', resolve: (b) => usd(b.limit_micros) }),
    alert_percents: t.intList({
      description: 'The percentages of the limit at which an alert is raised, once each per period.',
      complexity: fixedList(MAX_PERCENTS),
      resolve: (b) => percentsOf(b),
    }),
    time_zone: t.exposeString('time_zone', { description: 'The IANA time zone of its periods.' }),
    created_at: t.expose('created_at', { type: 'DateTime', description: 'When it was created.' }),
    updated_at: t.expose('updated_at', { type: 'DateTime', description: 'When it was last set.' }),
    spent_usd: t.float({
      description: 'Spent in the current period, in USD.',
      resolve: async (b, _args, ctx) => usd((await currentState(ctx, b)).spent),
    }),
    resets_at: t.field({
      type: 'DateTime',
      description: 'When the current period ends.',
      resolve: (b) => periodAt(b.period as Period, new Date(), b.time_zone).end,
    }),
  }),
});

const currentState = (ctx: Context, budget: BudgetRow) => stateOf(ctx.db, budget, new Date());

builder.prismaObject('BudgetAlert', {
  description:
    'A budget’s spend reaching one of its percentages in a period: raised once per percentage and period, and delivered to ALERT_WEBHOOK_URL until it answers 2xx.',
  fields: (t) => ({
    alert_id: t.exposeInt('alert_id', { description: 'The alert’s ID.' }),
    budget_id: t.exposeInt('budget_id', { description: 'The budget.' }),
    threshold: t.exposeInt('threshold', { description: 'The percentage reached.' }),
    period_start: t.expose('period_start', { type: 'DateTime', description: 'The start of the period it is in.' }),
    spent_usd: t.float({ description: 'Spent when it was raised, in USD.', resolve: (a) => usd(a.spent_micros) }),
    limit_usd: t.float({ description: 'The limit then, in USD.', resolve: (a) => usd(a.limit_micros) }),
    created_at: t.expose('created_at', { type: 'DateTime', description: 'When it was raised.' }),
    delivered_at: t.expose('delivered_at', {
      type: 'DateTime',
      nullable: true,
      description: 'When the webhook accepted it; null while not (or with no webhook configured).',
    }),
    attempts: t.exposeInt('attempts', { description: 'Delivery attempts so far.' }),
    last_error: t.exposeString('last_error', {
      nullable: true,
      description: 'Why the last attempt failed (e.g. "HTTP 503"); null once delivered.',
    }),
    budget: t.relation('budget', { description: 'The budget.' }),
  }),
});

const AllowanceRef = builder.objectRef<Allowance>('Allowance').implement({
  description:
    'What a user may still spend, against the tightest budget that applies to them (their own, their API key’s, the global one). With no budget, `allowed` and every other field null.',
  fields: (t) => ({
    allowed: t.exposeBoolean('allowed', { description: 'False once a budget that applies is spent.' }),
    spent_usd: t.exposeFloat('spent_usd', { nullable: true, description: 'Spent this period, in USD.' }),
    limit_usd: t.exposeFloat('limit_usd', { nullable: true, description: 'The budget’s limit, in USD.' }),
    remaining_usd: t.exposeFloat('remaining_usd', { nullable: true, description: 'Left this period (never below 0).' }),
    resets_at: t.expose('resets_at', {
      type: 'DateTime',
      nullable: true,
      description: 'When the budget’s period ends.',
    }),
    budget_id: t.exposeInt('budget_id', { nullable: true, description: 'The tightest budget.' }),
  }),
});

/**
 * The allowance of a usage row's spender right after it was written: on the answer of
 * record_model_usage (POST /usage) only, where it was computed once. Rows read later have none,
 * so a list of rows costs no query per row.
 */
builder.prismaObjectFields('ModelUsage', (t) => ({
  allowance: t.field({
    type: AllowanceRef,
    nullable: true,
    description:
      'On the answer of `record_model_usage` (`POST /usage`): the allowance of the call’s user (and API key) right after it was recorded. Null on rows read later.',
    resolve: (usage) => (usage as { [FRESH_ALLOWANCE]?: Allowance })[FRESH_ALLOWANCE] ?? null,
  }),
}));

const percentsSchema = z
  .array(z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000'))
  .min(1, 'needs at least one percentage')
  .max(MAX_PERCENTS, `at most ${MAX_PERCENTS} percentages`);

const limitSchema = z
  .number()
  .positive('must be more than 0')
  .max(MAX_LIMIT_USD, `must be at most ${MAX_LIMIT_USD}`)
  .refine(Number.isFinite, 'must be a number');

/** What a budget is on, as its unique key. */
function subjectOf(scope: (typeof SCOPES)[number], userId: number | null, apiKeyId: number | null): string {
  return scope === 'user' ? `user:${userId}` : scope === 'api_key' ? `api_key:${apiKeyId}` : 'global';
}

builder.queryFields((t) => ({
  budgets: t.prismaField({
    type: ['Budget'],
    description: 'Budgets, oldest first, optionally only one user’s. Admins only.',
    authScopes: { admin: true },
    complexity: pageComplexity,
    args: {
      user_id: t.arg.int({ description: 'Only this user’s budgets.' }),
      ...pageArgs(t.arg, 'budgets'),
    },
    resolve: (query, _root, { user_id, limit, offset }, ctx) =>
      ctx.db.budget.findMany({
        ...query,
        where: user_id == null ? {} : { user_id },
        orderBy: { budget_id: 'asc' },
        take: limit ?? DEFAULT_LIMIT,
        skip: offset ?? 0,
      }),
  }),
  budget_alerts: t.prismaField({
    type: ['BudgetAlert'],
    description: 'A budget’s alerts, newest first, with their delivery. Admins only.',
    authScopes: { admin: true },
    complexity: pageComplexity,
    args: {
      budget_id: t.arg.int({ required: true, description: 'The budget’s ID.' }),
      ...pageArgs(t.arg, 'alerts'),
    },
    resolve: async (query, _root, { budget_id, limit, offset }, ctx) => {
      const budget = await ctx.db.budget.findUnique({ where: { budget_id }, select: { budget_id: true } });
      if (!budget) throw notFound(`Budget with ID ${budget_id} not found`);
      return ctx.db.budgetAlert.findMany({
        ...query,
        where: { budget_id },
        orderBy: { alert_id: 'desc' },
        take: limit ?? DEFAULT_LIMIT,
        skip: offset ?? 0,
      });
    },
  }),
  usage_allowance: t.field({
    type: AllowanceRef,
    description:
      'For the AI service to ask before a model call: may this user spend, and how much is left, against the tightest budget that applies (the user’s, the calling API key’s, the global one). With authentication on, your own (an admin asks for anyone).',
    authScopes: { member: true },
    args: {
      user_id: t.arg.int({ description: 'The user the call is for.' }),
      model_name: t.arg.string({
        description: 'The model about to be called. Budgets count every model, so it does not change the answer.',
        validate: textSchema(200).optional().nullable(),
      }),
    },
    resolve: async (_root, { user_id }, ctx) => {
      const who = actingAs(ctx, user_id);
      if (!who.allowed) throw notFound(`User with ID ${user_id} not found`);
      if (who.userId != null) {
        const user = await ctx.db.user.findUnique({ where: { user_id: who.userId }, select: { user_id: true } });
        if (!user) throw notFound(`User with ID ${who.userId} not found`);
      }
      const apiKeyId = apiKeyIdOf(ctx);
      return allowanceFor(ctx.db, { userId: who.userId ?? null, apiKeyId });
    },
  }),
}));

const DeleteBudgetResult = builder.objectRef<{ message: string }>('DeleteBudgetResult').implement({
  description: 'What `delete_budget` did.',
  fields: (t) => ({ message: t.exposeString('message', { description: 'E.g. "Budget 3 deleted".' }) }),
});

builder.mutationFields((t) => ({
  set_budget: t.prismaField({
    type: 'Budget',
    description:
      'Creates a budget, or replaces the one with the same scope, subject and period (its alerts stay). Admins only.',
    authScopes: { admin: true },
    args: {
      scope: t.arg({ type: BudgetScope, required: true, description: 'Whose spend it limits.' }),
      user_id: t.arg.int({ description: 'For a `user` budget: the user; must exist.' }),
      api_key_id: t.arg.int({ description: 'For an `api_key` budget: the key; must exist.' }),
      period: t.arg({ type: BudgetPeriod, required: true, description: 'Its calendar period.' }),
      limit_usd: t.arg.float({
        required: true,
        description: `The limit per period, in USD (more than 0, at most ${MAX_LIMIT_USD}; counted in micro-dollars).`,
        validate: limitSchema,
      }),
      alert_percents: t.arg.intList({
        description: `Percentages of the limit that raise an alert, 1 to 1000, at most ${MAX_PERCENTS}; default [50, 80, 100].`,
        validate: percentsSchema.optional().nullable(),
      }),
      time_zone: t.arg.string({ description: 'The IANA time zone of its periods; default UTC.' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const scope = args.scope as (typeof SCOPES)[number];
      const userId = args.user_id ?? null;
      const apiKeyId = args.api_key_id ?? null;
      if (scope === 'user' && (userId === null || apiKeyId !== null)) {
        throw badInput('user_id: a user budget needs user_id (and no api_key_id)');
      }
      if (scope === 'api_key' && (apiKeyId === null || userId !== null)) {
        throw badInput('api_key_id: an api_key budget needs api_key_id (and no user_id)');
      }
      if (scope === 'global' && (userId !== null || apiKeyId !== null)) {
        throw badInput('scope: a global budget takes neither user_id nor api_key_id');
      }
      const timeZone = canonicalTimeZone(args.time_zone ?? 'UTC');
      if (timeZone === null) throw badInput(`time_zone: "${args.time_zone?.slice(0, 64)}" is not an IANA time zone`);
      if (
        userId !== null &&
        !(await ctx.db.user.findUnique({ where: { user_id: userId }, select: { user_id: true } }))
      ) {
        throw badInput(`user_id: user ${userId} not found`);
      }
      if (
        apiKeyId !== null &&
        !(await ctx.db.apiKey.findUnique({ where: { api_key_id: apiKeyId }, select: { api_key_id: true } }))
      ) {
        throw badInput(`api_key_id: API key ${apiKeyId} not found`);
      }
      const percents = [...new Set(args.alert_percents ?? DEFAULT_PERCENTS)].sort((a, b) => a - b);
      const values = {
        limit_micros: BigInt(Math.round(args.limit_usd * 1_000_000)),
        alert_percents: JSON.stringify(percents),
        time_zone: timeZone,
        updated_at: new Date(),
      };
      if (values.limit_micros <= 0n) throw badInput('limit_usd: must be at least 0.000001');
      const subject = subjectOf(scope, userId, apiKeyId);
      const period = args.period as Period;
      const write = () =>
        ctx.db.budget.upsert({
          ...query,
          where: { subject_period: { subject, period } },
          create: { scope, user_id: userId, api_key_id: apiKeyId, subject, period, ...values },
          update: values,
        });
      try {
        return await write();
      } catch (error) {
        // Two first PUTs of one budget at once: the loser's insert hits the unique key; it updates.
        if (isPrismaError(error, 'P2002')) return write();
        if (isPrismaError(error, 'P2003')) throw badInput('The user or API key no longer exists');
        throw error;
      }
    },
  }),
  delete_budget: t.field({
    type: DeleteBudgetResult,
    description: 'Deletes a budget and its alerts. Admins only.',
    authScopes: { admin: true },
    args: { budget_id: t.arg.int({ required: true, description: 'The budget’s ID.' }) },
    resolve: async (_root, { budget_id }, ctx) => {
      const { count } = await ctx.db.budget.deleteMany({ where: { budget_id } });
      if (count === 0) throw notFound(`Budget with ID ${budget_id} not found`);
      return { message: `Budget ${budget_id} deleted` };
    },
  }),
}));

builder.subscriptionField('budget_alert', (t) =>
  t.prismaField({
    type: 'BudgetAlert',
    description: 'Each budget alert as it is raised, on any instance (with REDIS_URL). Admins only.',
    authScopes: { admin: true },
    subscribe: (_root, _args, ctx) =>
      guardStream(ctx, (onOverflow) => ctx.pubsub.subscribe('budget_alert', 0, onOverflow)),
    resolve: (query, event, _args, ctx) =>
      endOr(async ({ alert_id }: { alert_id: number }) => {
        const alert = await ctx.db.budgetAlert.findUnique({ ...query, where: { alert_id } });
        if (!alert) throw notFound('The alert’s budget was deleted');
        return alert;
      })(event as never),
  }),
);

export { PERIODS, SCOPES };
