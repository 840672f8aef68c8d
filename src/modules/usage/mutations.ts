import { z } from 'zod';
import { actingAs, apiKeyIdOf, chatFor } from '../../auth/access';
import { isPrismaError } from '../../db/errors';
import { textSchema } from '../../graphql/args';
import { builder } from '../../graphql/builder';
import type { Context } from '../../graphql/context';
import { badInput, forbidden, notFound } from '../../graphql/errors';
import { recordUsage } from '../budgets/record';
import { allowanceFor, FRESH_ALLOWANCE, UNLIMITED } from '../budgets/spend';
import { assertUserExists, unknownUser } from '../users';
import { costOf, normalizeModelName, type Price, priceOf, type TokenCounts } from './pricing';
import { countTokens } from './tokens';
import { TestModelUsageResult } from './types';

/** The price columns of a usage row: the cost and the prices it was computed from. */
export function pricing(price: Price | undefined, tokens: TokenCounts) {
  if (!price) return { cost: 0, cost_micros: 0n, price_known: false };
  const cost = costOf(price, tokens);
  return {
    cost,
    // Rounded once, here: budgets add these up exactly.
    cost_micros: BigInt(Math.round(cost * 1_000_000)),
    price_known: true,
    input_price: price.input,
    cached_input_price: price.cached_input,
    output_price: price.output,
    price_effective_from: price.effective_from,
  };
}

/**
 * Counts a recorded model call in the metrics: tokens and cost by model and provider. Models
 * outside the price table share one series, so a client's model names cannot multiply them.
 */
function countUsage(ctx: Context, price: Price | undefined, tokens: TokenCounts, cost: number) {
  const labels = price ? { model: price.model, provider: price.provider } : { model: 'unpriced', provider: 'unpriced' };
  ctx.metrics.add('model_tokens_total', tokens.prompt_tokens, { ...labels, kind: 'prompt' });
  ctx.metrics.add('model_tokens_total', tokens.completion_tokens, { ...labels, kind: 'completion' });
  if (cost > 0) ctx.metrics.add('model_cost_usd_total', cost, labels);
}

const TEST_PROMPT = 'Hello! This is a test request to check that model usage tracking works.';
const TEST_RESPONSE = 'This is a test response';

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
      const priced = pricing(price, tokens);
      const { usage } = await recordUsage(
        ctx,
        { userId: user_id ?? null, apiKeyId: null },
        priced.cost_micros,
        (tx, timestamp) =>
          tx.modelUsage.create({
            data: {
              timestamp,
              user_id,
              chat_id,
              model_name: price.model,
              provider: price.provider,
              ...tokens,
              total_tokens: tokens.prompt_tokens + tokens.completion_tokens,
              ...pricing(price, tokens),
              request_time_ms: Math.round(performance.now() - started),
            },
          }),
      ).catch((error) => {
        // The user or chat was deleted between the check and the insert.
        if (isPrismaError(error, 'P2003')) throw badInput('The user or chat no longer exists');
        throw error;
      });
      countUsage(ctx, price, tokens, Number(usage.cost));
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
        // The key it was recorded with counts it towards that key's budgets.
        api_key_id: apiKeyIdOf(ctx),
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
      const write = (row: typeof data) =>
        recordUsage(
          ctx,
          { userId: row.user_id ?? null, apiKeyId: row.api_key_id },
          row.cost_micros ?? 0n,
          (tx, timestamp) => tx.modelUsage.create({ ...query, data: { ...row, timestamp } }),
        );
      const { usage, budgets } = await write(data).catch(async (error) => {
        // The chat went away between the check and the insert: keep the call, without the chat.
        if (isPrismaError(error, 'P2003') && data.chat_id !== null) {
          return write({ ...data, chat_id: null }).catch(unknownUser(who.userId));
        }
        return unknownUser(who.userId)(error);
      });
      countUsage(ctx, price, tokens, Number(data.cost));
      // The allowance after this write, for the answer (ModelUsage.allowance); no budget: no query.
      const spender = { userId: usage.user_id ?? null, apiKeyId: data.api_key_id };
      const allowance = budgets.length === 0 ? UNLIMITED : await allowanceFor(ctx.db, spender);
      return Object.assign(usage, { [FRESH_ALLOWANCE]: allowance });
    },
  }),
);
