import { z } from 'zod';
import { actingAs, chatFor } from '../../auth/access';
import { isPrismaError } from '../../db/errors';
import type { ModelUsage } from '../../generated/prisma/client';
import { DEFAULT_LIMIT, pageArgs, pageComplexity, textSchema } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import { fixedList } from '../../graphql/complexity';
import { badInput, forbidden, notFound } from '../../graphql/errors';
import { assertUserExists, unknownUser } from '../users/schema';
import { costOf, normalizeModelName, type Price, priceOf, type TokenCounts } from './pricing';
import { GROUP_KEYS, MAX_GROUPS, type Summary, type SummaryRow, usageSummary } from './summary';
import { countTokens } from './tokens';

const ModelUsageType = builder.prismaObject('ModelUsage', {
  description: 'One call to an LLM: who made it, which model, how many tokens and what it cost.',
  fields: (t) => ({
    usage_id: t.exposeInt('usage_id', { description: 'The record’s ID.' }),
    user_id: t.exposeInt('user_id', { nullable: true, description: 'The user the call was made for, if any.' }),
    chat_id: t.exposeInt('chat_id', {
      nullable: true,
      description: 'The chat the call belonged to; null when none or when the chat was deleted since.',
    }),
    model_name: t.exposeString('model_name', { description: 'The model, e.g. "gpt-4o".' }),
    provider: t.exposeString('provider', {
      description: 'The model’s provider, e.g. "openai"; "unknown" if not priced.',
    }),
    prompt_tokens: t.exposeInt('prompt_tokens', { description: 'Tokens sent to the model.' }),
    completion_tokens: t.exposeInt('completion_tokens', { description: 'Tokens the model produced.' }),
    total_tokens: t.exposeInt('total_tokens', { description: 'prompt_tokens + completion_tokens.' }),
    cached_prompt_tokens: t.exposeInt('cached_prompt_tokens', {
      description: 'Prompt tokens served from the provider’s cache (part of prompt_tokens).',
    }),
    reasoning_tokens: t.exposeInt('reasoning_tokens', { description: 'Reasoning tokens (part of completion_tokens).' }),
    cost: t.exposeFloat('cost', {
      description:
        'Cost in USD, computed from the price table when the call was recorded; 0 when the price was unknown.',
    }),
    price_known: t.exposeBoolean('price_known', {
      description: 'False when the model was not in the price table: the call is recorded, at cost 0.',
    }),
    input_price: t.exposeFloat('input_price', {
      nullable: true,
      description: 'USD per 1M prompt tokens in force when the call was recorded.',
    }),
    cached_input_price: t.exposeFloat('cached_input_price', {
      nullable: true,
      description: 'USD per 1M cached prompt tokens in force when the call was recorded, where the model has one.',
    }),
    output_price: t.exposeFloat('output_price', {
      nullable: true,
      description: 'USD per 1M completion tokens in force when the call was recorded.',
    }),
    is_streaming: t.exposeBoolean('is_streaming', { description: 'Whether the answer was streamed.' }),
    timestamp: t.expose('timestamp', { type: 'DateTime', description: 'When the call was recorded.' }),
    request_time_ms: t.exposeInt('request_time_ms', {
      nullable: true,
      description: 'How long the call took, in milliseconds, if known.',
    }),
  }),
});

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

/** The price columns of a usage row: the cost and the prices it was computed from. */
function pricing(price: Price | undefined, tokens: TokenCounts) {
  if (!price) return { cost: 0, price_known: false };
  return {
    cost: costOf(price, tokens),
    price_known: true,
    input_price: price.input,
    cached_input_price: price.cached_input,
    output_price: price.output,
    price_effective_from: price.effective_from,
  };
}

const TEST_PROMPT = 'Hello! This is a test request to check that model usage tracking works.';
const TEST_RESPONSE = 'This is a test response';

const TestModelUsageResult = builder
  .objectRef<{ success: boolean; message: string; response: string; usage_recorded: ModelUsage }>(
    'TestModelUsageResult',
  )
  .implement({
    description: 'What `test_model_usage` did.',
    fields: (t) => ({
      success: t.exposeBoolean('success', { description: 'True when the usage record was written.' }),
      message: t.exposeString('message', { description: 'A human-readable summary.' }),
      response: t.exposeString('response', { description: 'The simulated model reply.' }),
      usage_recorded: t.expose('usage_recorded', {
        type: ModelUsageType,
        description: 'The usage record just written.',
      }),
    }),
  });

builder.mutationField('test_model_usage', (t) =>
  t.field({
    type: TestModelUsageResult,
    description:
      'Debugging aid: simulates a model call with a fixed prompt, counts its tokens, prices them and records the usage. Not available when debug routes are turned off; with authentication on, admins only.',
    authScopes: { operator: true },
    args: {
      model_name: t.arg.string({ defaultValue: 'gpt-3.5-turbo', description: 'A model from the price table.' }),
      user_id: t.arg.int({ description: 'The user to record the usage for; must exist.' }),
      chat_id: t.arg.int({ description: 'The chat to record the usage for; must exist.' }),
    },
    resolve: async (_root, { model_name, user_id, chat_id }, ctx) => {
      if (!ctx.config.enableDebugRoutes) throw notFound('Debug routes are turned off');
      const price = priceOf(ctx.prices, model_name ?? 'gpt-3.5-turbo');
      if (!price) throw badInput(`Unknown model "${model_name}": it is not in the price table`);
      if (user_id != null) await assertUserExists(ctx, user_id);
      if (chat_id != null) {
        const chat = await ctx.db.chat.findUnique({ where: { chat_id }, select: { chat_id: true } });
        if (!chat) throw badInput(`Chat with ID ${chat_id} not found`);
      }
      const started = performance.now();
      const tokens = {
        prompt_tokens: await countTokens(TEST_PROMPT, price.model),
        completion_tokens: await countTokens(TEST_RESPONSE, price.model),
      };
      const usage = await ctx.db.modelUsage
        .create({
          data: {
            user_id,
            chat_id,
            model_name: price.model,
            provider: price.provider,
            ...tokens,
            total_tokens: tokens.prompt_tokens + tokens.completion_tokens,
            ...pricing(price, tokens),
            request_time_ms: Math.round(performance.now() - started),
          },
        })
        .catch((error) => {
          // The user or chat was deleted between the check and the insert.
          if (isPrismaError(error, 'P2003')) throw badInput('The user or chat no longer exists');
          throw error;
        });
      return {
        success: true,
        message: 'Model usage tracking test completed',
        response: TEST_RESPONSE,
        usage_recorded: usage,
      };
    },
  }),
);

const tokenCount = (description: string) => ({
  description,
  validate: z.number().int().min(0, 'must not be negative'),
});

builder.mutationField('record_model_usage', (t) =>
  t.prismaField({
    type: 'ModelUsage',
    description:
      'Records one model call and prices it with the price table in force now; the row keeps that price. An unknown model is recorded at cost 0 with price_known false. A chat that no longer exists is recorded as no chat (usage outlives chats).',
    authScopes: { member: true },
    args: {
      user_id: t.arg.int({
        description: 'The user the call was made for; must exist. With authentication on, the caller.',
      }),
      chat_id: t.arg.int({ description: 'The chat the call belonged to.' }),
      model_name: t.arg.string({
        required: true,
        description:
          'The model, e.g. "gpt-4o" or "openai/gpt-4o" (matched exactly, ignoring case and provider prefix).',
        validate: textSchema(200),
      }),
      provider: t.arg.string({
        description: 'The provider; taken from the price table when the model is known.',
        validate: textSchema(100).optional().nullable(),
      }),
      prompt_tokens: t.arg.int({ required: true, ...tokenCount('Tokens sent to the model.') }),
      completion_tokens: t.arg.int({ required: true, ...tokenCount('Tokens the model produced.') }),
      cached_prompt_tokens: t.arg.int(tokenCount('Prompt tokens served from cache (part of prompt_tokens).')),
      reasoning_tokens: t.arg.int(tokenCount('Reasoning tokens (part of completion_tokens).')),
      request_time_ms: t.arg.int(tokenCount('How long the call took, in milliseconds.')),
      is_streaming: t.arg.boolean({ description: 'Whether the answer was streamed.' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const who = actingAs(ctx, args.user_id);
      if (!who.allowed) throw forbidden('You can only record usage for yourself');
      const cached = args.cached_prompt_tokens ?? 0;
      const reasoning = args.reasoning_tokens ?? 0;
      if (cached > args.prompt_tokens) throw badInput('cached_prompt_tokens: must not exceed prompt_tokens');
      if (reasoning > args.completion_tokens) throw badInput('reasoning_tokens: must not exceed completion_tokens');
      if (args.prompt_tokens + args.completion_tokens > 2 ** 31 - 1) {
        throw badInput('prompt_tokens + completion_tokens: must be below 2147483648');
      }
      if (who.userId != null) await assertUserExists(ctx, who.userId);
      // A chat the caller may not use, or one that is gone, is recorded as no chat: the call is
      // kept, never attached to someone else's chat, and the answer is the same in both cases.
      const where = args.chat_id == null ? null : chatFor(ctx, args.chat_id, who.userId);
      const chat = where && (await ctx.db.chat.findFirst({ where, select: { chat_id: true } }));
      const price = priceOf(ctx.prices, args.model_name);
      const tokens = {
        prompt_tokens: args.prompt_tokens,
        completion_tokens: args.completion_tokens,
        cached_prompt_tokens: cached,
      };
      const data = {
        user_id: who.userId,
        chat_id: chat?.chat_id ?? null,
        model_name: price?.model ?? normalizeModelName(args.model_name),
        provider: price?.provider ?? args.provider?.trim().toLowerCase() ?? 'unknown',
        ...tokens,
        reasoning_tokens: reasoning,
        total_tokens: args.prompt_tokens + args.completion_tokens,
        ...pricing(price, tokens),
        request_time_ms: args.request_time_ms,
        is_streaming: args.is_streaming ?? false,
      };
      return ctx.db.modelUsage.create({ ...query, data }).catch(async (error) => {
        // The chat went away between the check and the insert: keep the call, without the chat.
        if (isPrismaError(error, 'P2003') && data.chat_id !== null) {
          return ctx.db.modelUsage
            .create({ ...query, data: { ...data, chat_id: null } })
            .catch(unknownUser(who.userId));
        }
        return unknownUser(who.userId)(error);
      });
    },
  }),
);

const UsageGroupBy = builder.enumType('UsageGroupBy', {
  description: 'What to group a usage summary by.',
  values: {
    MODEL: { description: 'The model name.' },
    PROVIDER: { description: 'The provider.' },
    USER: { description: 'The user (null: calls made for no user).' },
    CHAT: { description: 'The chat (null: no chat, or a deleted one).' },
    DAY: { description: 'The local day (YYYY-MM-DD) in the summary’s time zone.' },
  } as const,
});

const UsageSummaryRow = builder.objectRef<SummaryRow>('UsageSummaryRow').implement({
  description: 'Sums over the calls of one group; as `totals`, over all of them (group keys null).',
  fields: (t) => ({
    model_name: t.string({ nullable: true, description: 'With MODEL.', resolve: (r) => r.model_name ?? null }),
    provider: t.string({ nullable: true, description: 'With PROVIDER.', resolve: (r) => r.provider ?? null }),
    user_id: t.int({ nullable: true, description: 'With USER.', resolve: (r) => r.user_id ?? null }),
    chat_id: t.int({ nullable: true, description: 'With CHAT.', resolve: (r) => r.chat_id ?? null }),
    day: t.string({
      nullable: true,
      description: 'With DAY: the local day, YYYY-MM-DD.',
      resolve: (r) => r.day ?? null,
    }),
    requests: t.exposeInt('requests', { description: 'How many calls.' }),
    prompt_tokens: t.exposeFloat('prompt_tokens', { description: 'Sum of prompt tokens (a Float: sums outgrow Int).' }),
    completion_tokens: t.exposeFloat('completion_tokens', { description: 'Sum of completion tokens.' }),
    cached_prompt_tokens: t.exposeFloat('cached_prompt_tokens', { description: 'Sum of cached prompt tokens.' }),
    reasoning_tokens: t.exposeFloat('reasoning_tokens', { description: 'Sum of reasoning tokens.' }),
    total_tokens: t.exposeFloat('total_tokens', { description: 'Sum of all tokens.' }),
    cost: t.exposeFloat('cost', { description: 'Sum of the recorded costs, in USD.' }),
  }),
});

const UsageSummary = builder.objectRef<Summary>('UsageSummary').implement({
  description: 'Usage and cost of the calls in a time range, grouped as asked.',
  fields: (t) => ({
    time_zone: t.exposeString('time_zone', { description: 'The IANA time zone of the days.' }),
    from: t.expose('from', {
      type: 'DateTime',
      nullable: true,
      description: 'Start of the range (inclusive); null: the beginning.',
    }),
    to: t.expose('to', { type: 'DateTime', description: 'End of the range (exclusive).' }),
    group_by: t.exposeStringList('group_by', {
      description: 'The grouping, as asked.',
      complexity: fixedList(GROUP_KEYS.length),
    }),
    rows: t.field({
      type: [UsageSummaryRow],
      description: `One row per group, by day, then by cost (highest first); at most ${MAX_GROUPS} (more is refused: narrow the range or group by less).`,
      complexity: fixedList(MAX_GROUPS),
      resolve: (s) => s.rows,
    }),
    totals: t.field({ type: UsageSummaryRow, description: 'The sums over all rows.', resolve: (s) => s.totals }),
  }),
});

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
