import { costOf, priceOf, readPriceTable } from '../../../src/modules/usage/pricing';
import { call, gql, isoUtc, keysOf, newChat, newUser } from '../../support/http';

const bundled = readPriceTable(null);

describe('POST /chats/debug/test-model-usage', () => {
  it('records a priced usage row and returns exactly that row', async () => {
    const u = await newUser();
    const r = await call('POST', `/chats/debug/test-model-usage?model_name=gpt-3.5-turbo&user_id=${u.user_id}`);
    expect(r.status).toBe(200);
    expect(keysOf(r.json)).toEqual(['message', 'response', 'success', 'usage_recorded']);
    expect(r.json).toMatchObject({
      success: true,
      message: 'Model usage tracking test completed',
      response: 'This is a test response',
    });
    const rec = r.json.usage_recorded;
    expect(keysOf(rec)).toEqual(['cost', 'model_name', 'timestamp', 'tokens', 'usage_id']);
    expect(isoUtc(rec.timestamp)).toBe(true);

    const stored = await gql(
      `query($u: Int) { model_usage(user_id: $u) { usage_id user_id chat_id model_name provider prompt_tokens completion_tokens total_tokens cost timestamp request_time_ms } }`,
      { u: u.user_id },
    );
    const [row] = stored.json.data.model_usage;
    expect(row).toMatchObject({
      usage_id: rec.usage_id,
      user_id: u.user_id,
      chat_id: null,
      model_name: 'gpt-3.5-turbo',
      provider: 'openai',
      total_tokens: rec.tokens,
      cost: rec.cost,
      timestamp: rec.timestamp,
    });
    expect(row.prompt_tokens).toBeGreaterThan(0);
    // The reply "This is a test response" is 5 tokens in cl100k_base.
    expect(row.completion_tokens).toBe(5);
    expect(row.prompt_tokens + row.completion_tokens).toBe(rec.tokens);
    const price = priceOf(bundled, 'gpt-3.5-turbo');
    expect(price).toBeDefined();
    expect(rec.cost).toBeCloseTo(costOf(price!, row), 12);
    expect(rec.cost).toBeCloseTo((row.prompt_tokens * 0.5 + row.completion_tokens * 1.5) / 1e6, 12);
  });

  it('defaults to gpt-3.5-turbo and no user, and can record a chat', async () => {
    const c = await newChat();
    const r = await call('POST', `/chats/debug/test-model-usage?chat_id=${c.chat_id}`);
    expect(r.status).toBe(200);
    expect(r.json.usage_recorded.model_name).toBe('gpt-3.5-turbo');
    const rows = await gql(`query($c: Int) { model_usage(chat_id: $c) { usage_id chat_id user_id } }`, {
      c: c.chat_id,
    });
    expect(rows.json.data.model_usage).toEqual([
      { usage_id: r.json.usage_recorded.usage_id, chat_id: c.chat_id, user_id: null },
    ]);
  });

  it('prices another provider’s model and accepts a provider prefix', async () => {
    const r = await call('POST', '/chats/debug/test-model-usage?model_name=anthropic/Claude-3-5-Sonnet');
    expect(r.status).toBe(200);
    expect(r.json.usage_recorded.model_name).toBe('claude-3-5-sonnet');
  });

  it.each([
    ['model_name=no-such-model', /no-such-model/],
    ['user_id=2147480000', /User with ID 2147480000 not found/],
    ['chat_id=2147480000', /Chat with ID 2147480000 not found/],
    ['user_id=abc', /user_id/],
  ])('rejects %s with 422 and records nothing', async (query, detail) => {
    const before = await gql('{ model_usage(limit: 100) { usage_id } }');
    const r = await call('POST', `/chats/debug/test-model-usage?${query}`);
    expect(r.status).toBe(422);
    expect(r.json.detail).toMatch(detail);
    const after = await gql('{ model_usage(limit: 100) { usage_id } }');
    expect(after.json.data.model_usage).toEqual(before.json.data.model_usage);
  });
});

describe('GraphQL model_usage', () => {
  it('lists a user’s records newest first with limit and offset', async () => {
    const u = await newUser();
    const ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await call('POST', `/chats/debug/test-model-usage?user_id=${u.user_id}`)).json.usage_recorded.usage_id);
    }
    const r = await gql(`query($u: Int) { model_usage(user_id: $u, limit: 2, offset: 1) { usage_id } }`, {
      u: u.user_id,
    });
    expect(r.json.data.model_usage.map((x: { usage_id: number }) => x.usage_id)).toEqual([ids[1], ids[0]]);
  });
});
