import { actingAs } from '../auth';
import { builder } from '../builder';
import { config } from '../config';
import { isPrismaError, prisma } from '../db';
import { badInput, notFound } from '../errors';
import type { ModelUsage } from '../generated/prisma/client';
import { costOf, priceOf } from '../pricing';
import { countTokens } from '../tokens';
import { DEFAULT_LIMIT, pageArgs } from './inputs';
import { assertUserExists } from './users';

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
    cost: t.exposeFloat('cost', {
      description: 'Cost in USD, computed from the price table when the call was recorded.',
    }),
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
    args: {
      user_id: t.arg.int({ description: 'Only this user’s records.' }),
      chat_id: t.arg.int({ description: 'Only this chat’s records.' }),
      ...pageArgs(t.arg, 'records'),
    },
    resolve: async (query, _root, { user_id, chat_id, limit, offset }, ctx) => {
      const who = actingAs(ctx, user_id);
      if (!who.allowed) return [];
      return prisma.modelUsage.findMany({
        ...query,
        where: { ...(who.userId == null ? {} : { user_id: who.userId }), ...(chat_id == null ? {} : { chat_id }) },
        orderBy: [{ timestamp: 'desc' }, { usage_id: 'desc' }],
        take: limit ?? DEFAULT_LIMIT,
        skip: offset ?? 0,
      });
    },
  }),
);

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
    resolve: async (_root, { model_name, user_id, chat_id }) => {
      if (!config.enableDebugRoutes) throw notFound('Debug routes are turned off');
      const price = priceOf(model_name ?? 'gpt-3.5-turbo');
      if (!price) throw badInput(`Unknown model "${model_name}": it is not in the price table`);
      if (user_id != null) await assertUserExists(user_id);
      if (chat_id != null) {
        const chat = await prisma.chat.findUnique({ where: { chat_id }, select: { chat_id: true } });
        if (!chat) throw badInput(`Chat with ID ${chat_id} not found`);
      }
      const started = performance.now();
      const tokens = {
        prompt_tokens: await countTokens(TEST_PROMPT, price.model),
        completion_tokens: await countTokens(TEST_RESPONSE, price.model),
      };
      const usage = await prisma.modelUsage
        .create({
          data: {
            user_id,
            chat_id,
            model_name: price.model,
            provider: price.provider,
            ...tokens,
            total_tokens: tokens.prompt_tokens + tokens.completion_tokens,
            cost: costOf(price, tokens),
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
