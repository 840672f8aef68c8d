import type { ModelUsage } from '../../generated/prisma/client';
import { builder } from '../../graphql/builder';
import { fixedList } from '../../graphql/complexity';
import { GROUP_KEYS, MAX_GROUPS, type Summary, type SummaryRow } from './summary';

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

export const TestModelUsageResult = builder
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

export const UsageGroupBy = builder.enumType('UsageGroupBy', {
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

export const UsageSummary = builder.objectRef<Summary>('UsageSummary').implement({
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
